"""A fresh PostgreSQL database at the schema's head for the store's PostgreSQL-only tests."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from sqlalchemy import Engine

from core.store.engine import make_engine
from core.store.migrate import upgrade
from tests.harness import create_postgres_database, drop_postgres_database


@contextlib.contextmanager
def migrated_postgres() -> Iterator[Engine]:
    """An engine on a new database, upgraded to the head; the database is dropped afterwards."""
    url = create_postgres_database()
    engine = make_engine(url)
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        drop_postgres_database(url)
