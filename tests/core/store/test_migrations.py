"""Migrations build exactly the schema core/store/tables/ declares, on SQLite and PostgreSQL."""

from __future__ import annotations

import pathlib

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from core.store.engine import make_engine
from core.store.migrate import upgrade
from core.store.tables import METADATA
from tests.harness import create_postgres_database, drop_postgres_database


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_migrations_match_the_models(backend: str, tmp_path: pathlib.Path) -> None:
    url = f"sqlite:///{tmp_path}/m.db" if backend == "sqlite" else create_postgres_database()
    engine = make_engine(url)
    try:
        upgrade(engine)
        upgrade(engine)  # idempotent: every start runs it
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), METADATA)
        assert differences == []
    finally:
        engine.dispose()
        if backend == "postgres":
            drop_postgres_database(url)
