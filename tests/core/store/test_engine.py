"""A failing statement's error text never carries its parameters (they reach logs: API.md "Logs")."""

from __future__ import annotations

import pathlib

import pytest
from sqlalchemy import Column, MetaData, String, Table, insert
from sqlalchemy.exc import DBAPIError, IntegrityError

from core.store.engine import make_engine
from tests.harness import create_postgres_database, drop_postgres_database

SECRET = "whsec_" + "s3cr3t" * 6


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_errors_hide_the_statement_parameters(backend: str, tmp_path: pathlib.Path) -> None:
    url = f"sqlite:///{tmp_path}/e.db" if backend == "sqlite" else create_postgres_database()
    engine = make_engine(url)
    table = Table("secrets", MetaData(), Column("id", String(64), primary_key=True), Column("value", String(200)))
    try:
        table.metadata.create_all(engine)
        with engine.begin() as connection:
            connection.execute(insert(table).values(id="one", value=SECRET))
        with pytest.raises(IntegrityError) as duplicate, engine.begin() as connection:
            connection.execute(insert(table).values(id="one", value=SECRET))
        assert SECRET not in str(duplicate.value)
        if backend == "postgres":  # PostgreSQL cannot store a NUL: the error must not echo the value
            with pytest.raises(DBAPIError) as nul, engine.begin() as connection:
                connection.execute(insert(table).values(id="two", value=SECRET + "\0"))
            assert SECRET not in str(nul.value)
    finally:
        engine.dispose()
        if backend == "postgres":
            drop_postgres_database(url)
