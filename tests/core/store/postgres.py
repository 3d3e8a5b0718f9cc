"""A fresh PostgreSQL database at the schema's head for the store's PostgreSQL-only tests."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from sqlalchemy import Engine, text

from core.store.engine import make_engine
from core.store.migrate import upgrade
from core.store.partition_leases import PartitionLeases, liveness_key
from tests.harness import create_postgres_database, drop_postgres_database, wait_until


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


def gone(engine: Engine, leases: PartitionLeases) -> None:
    """Drops a core's liveness lock, as its process's death would, and waits until PostgreSQL has let
    it go: the server frees a closed session's locks when its backend exits, a moment after the
    client closed the connection — a probe or a new holder right after the close can still find it
    held (a test doing so failed under the suite's load)."""
    leases.drop_liveness_lock()
    key = liveness_key(leases.fence.core_id)

    def free() -> bool:
        with engine.connect() as connection:
            taken = bool(connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar())
            if taken:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
            connection.commit()
            return taken

    wait_until(free, 10, f"{leases.fence.core_id}'s liveness lock to be let go")
