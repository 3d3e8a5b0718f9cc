"""Database engines: SQLite (embedded default, WAL) or PostgreSQL (psycopg 3)."""

from __future__ import annotations

import logging
import pathlib
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.pool import NullPool, QueuePool

log = logging.getLogger("ringside.core.store")
T = TypeVar("T")


def normalize_url(url: str) -> str:
    """`postgresql://` and `postgres://` mean psycopg 3, the driver we ship."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str, sqlite_synchronous: str = "FULL", application_name: str = "") -> Engine:
    """An engine whose errors never carry the failing statement's parameters: those are webhook
    secrets, keys and customer data, and an error's text reaches logs (API.md "Logs").
    `application_name` (PostgreSQL): what its sessions show in pg_stat_activity (a core's: another
    core may end its sessions left idle in a transaction when it froze, partition_leases.py)."""
    url = normalize_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            poolclass=QueuePool,
            pool_size=4,
            max_overflow=4,
            connect_args={"check_same_thread": False, "timeout": 30},
            hide_parameters=True,
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA synchronous={sqlite_synchronous}")
            cursor.execute("PRAGMA busy_timeout=30000")
            # Deleted and overwritten content is zeroed, not left in free pages: an erased
            # customer's data must not stay readable in the file (API.md "Customers", erase).
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.close()

        return engine
    if url.startswith("postgresql"):
        connect_args = {"application_name": application_name[:63]} if application_name else {}
        return create_engine(
            url, pool_size=4, max_overflow=4, pool_pre_ping=True, hide_parameters=True, connect_args=connect_args
        )
    return create_engine(url, poolclass=NullPool, hide_parameters=True)


def restrict_files(engine: Engine) -> None:
    """A SQLite database's files (the database, its WAL and shared memory) readable by their owner
    only: they hold customers' data and sealed secrets."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return
    for suffix in ("", "-wal", "-shm"):
        path = pathlib.Path(database + suffix)
        if path.exists():
            path.chmod(0o600)


def polled_reads(engine: Engine) -> Connection:
    """A connection for reads of one statement each that a loop repeats (the partition loops, a
    poll every 0.1 s): in autocommit, so no BEGIN before and ROLLBACK after each (on PostgreSQL one
    round trip instead of three; a poll's CPU 0.43 → 0.24 ms). A statement is its own snapshot."""
    return engine.connect().execution_options(isolation_level="AUTOCOMMIT")


class PolledReads:
    """A connection kept for the reads a loop repeats every 0.1 s (the partition loops' death poll,
    core/store/partition_leases.py), in autocommit (`polled_reads`): a read checks no connection out
    of the pool, so the pool's pre-ping (a round trip, ~40 % of a poll's CPU) is not paid per poll.

    A lost session (ended server-side, cut by a firewall, the server restarted) is found by the
    failing read itself, as the liveness lock's connection finds it (`touch_liveness_lock`): the
    connection is discarded, a new one opened (checked out once, pinged) and the read run once more —
    every read given here is safe to repeat. Failing again (the database unreachable), the error is
    raised and the next call opens a new connection: the loop's next poll retries.

    The connection is not one of the engine's pool (whose size bounds the requests' and the
    commits' connections, never to be taken for good by a loop): its own pool, configured as the
    engine's (`Pool.recreate`: the same connect arguments, events and pre-ping at checkout)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._own: Engine | None = None
        self._connection: Connection | None = None
        # the lease loops' threads (the round's and the death poll's) share it, one read at a time
        self._mutex = threading.Lock()

    def run(self, read: Callable[[Connection], T]) -> T:
        """`read(connection)` on the kept connection; on a lost session, once more on a new one."""
        with self._mutex:
            try:
                return read(self._opened())
            except DBAPIError as error:
                self._discard()
                if not (error.connection_invalidated or isinstance(error, (OperationalError, InterfaceError))):
                    raise
                log.warning("a polled read's session was lost (%s); reading on a new one", type(error.orig).__name__)
            except BaseException:
                self._discard()
                raise
            try:
                return read(self._opened())
            except BaseException:
                self._discard()
                raise

    def close(self) -> None:
        """Closes the connection and its pool (a clean stop); a later `run` opens another."""
        with self._mutex:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
            if self._own is not None:
                self._own.dispose()
                self._own = None

    def _opened(self) -> Connection:
        if self._connection is None:
            if self._own is None:
                self._own = create_engine(
                    self._engine.url, pool=self._engine.pool.recreate(), hide_parameters=self._engine.hide_parameters
                )
            self._connection = polled_reads(self._own)
        return self._connection

    def _discard(self) -> None:
        """Never back to the pool: its session may be broken (a new one is cheap, and this is rare)."""
        if self._connection is not None:
            self._connection.invalidate()
            self._connection.close()
            self._connection = None
