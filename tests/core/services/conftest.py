"""The services' tests open a core on a fresh database of each kind, as the store's do."""

from tests.core.store.conftest import database  # noqa: F401  (the fixture, for this folder's tests)
