"""A failing statement's error text never carries its parameters (they reach logs: API.md "Logs").
A loop's polled reads keep a connection of their own, outside the engine's pool, and read again on
a new one when its session is lost."""

from __future__ import annotations

import pathlib

import pytest
from sqlalchemy import Column, MetaData, String, Table, insert, text
from sqlalchemy.exc import DBAPIError, IntegrityError, ProgrammingError

from core.store.engine import PolledReads, make_engine
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


def _pid(reads: PolledReads) -> int:
    return int(reads.run(lambda connection: connection.execute(text("SELECT pg_backend_pid()")).scalar_one()))


@pytest.mark.postgres
def test_polled_reads_keep_a_session_outside_the_pool_and_read_again_on_a_new_one_when_it_is_lost() -> None:
    url = create_postgres_database()
    engine = make_engine(url, application_name="ringside-core polls")
    reads = PolledReads(engine)
    try:
        first = _pid(reads)
        assert _pid(reads) == first  # kept: no checkout (and no ping) per read
        assert engine.pool.checkedout() == 0  # the requests' pool is whole
        with engine.connect() as connection:
            name = connection.execute(
                text("SELECT application_name FROM pg_stat_activity WHERE pid = :pid"), {"pid": first}
            )
            assert name.scalar_one() == "ringside-core polls"  # configured as the engine's
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        second = _pid(reads)  # the failing read found it: read again on a new session
        assert second != first
        with pytest.raises(ProgrammingError):  # not a lost session: raised, not read again
            reads.run(lambda connection: connection.execute(text("SELECT * FROM no_such_table")))
        assert _pid(reads) not in (first, second)  # and the next read opens a new one
        reads.close()
        assert engine.pool.checkedout() == 0
    finally:
        reads.close()
        engine.dispose()
        drop_postgres_database(url)
