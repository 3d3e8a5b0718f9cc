"""Schema migrations (alembic). `ringside migrate` (and `ringside up`, before it starts the core)
brings a database to the code's revision under a PostgreSQL advisory lock, so two operators or two
starting nodes never migrate at once. A core creates the schema of an empty database itself, and
refuses to start on one older or newer than its code (API.md "Governance"; DECISIONS.md "25").

python -m core.store.migrate revision "message"   # autogenerate a revision from tables/
"""

from __future__ import annotations

import pathlib
import sys
from dataclasses import dataclass

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text

MIGRATIONS = pathlib.Path(__file__).resolve().parent / "migrations"
# pg_advisory_xact_lock's key: one per Ringside database ("RS-MIGR" in ASCII).
MIGRATION_LOCK_KEY = 0x52532D4D494752


class SchemaMismatch(RuntimeError):
    """The database's schema is not the one this code was written for."""


@dataclass(frozen=True, slots=True)
class Migrated:
    before: str | None  # None: an empty database
    after: str


def _config(connection: object) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    # the engine's sealer (core/store/sealing.py), for the migration that seals stored secrets
    config.attributes["sealer"] = getattr(getattr(connection, "dialect", None), "ringside_sealer", None)
    return config


def head_revision() -> str:
    """The newest revision this code knows."""
    head = ScriptDirectory.from_config(_config(None)).get_current_head()
    assert head is not None, "no migrations"
    return head


def _revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def current_revision(engine: Engine) -> str | None:
    """The revision the database's schema is at (None: no schema yet)."""
    with engine.connect() as connection:
        return _revision(connection)


def _lock(connection: Connection) -> None:
    """Serialize migrations on PostgreSQL until this transaction ends (SQLite's single writer
    already serializes them)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})


def upgrade(engine: Engine) -> Migrated:
    """Bring the database to the newest revision (nothing to do when it is there already)."""
    with engine.begin() as connection:
        _lock(connection)
        before = _revision(connection)
        command.upgrade(_config(connection), "head")
        return Migrated(before, head_revision())


def prepare(engine: Engine) -> None:
    """What a starting core does: create the schema of an empty database; accept the code's own
    revision; refuse any other (an older one needs `ringside migrate`, a newer one newer code)."""
    with engine.connect() as connection:
        current = _revision(connection)
        empty = current is None and not inspect(connection).get_table_names()
    if empty:
        upgrade(engine)
        return
    head = head_revision()
    if current == head:
        return
    known = {script.revision for script in ScriptDirectory.from_config(_config(None)).walk_revisions()}
    if current in known:
        raise SchemaMismatch(
            f"the database's schema is at revision {current}, older than this code's {head}: "
            "run `ringside migrate` (after a backup: `ringside backup PATH`), then start the core again"
        )
    raise SchemaMismatch(
        f"the database's schema is at revision {current}, which this code does not know (its newest is "
        f"{head}): the database was migrated by a newer Ringside; run that version, or restore a backup"
    )


def autogenerate(engine: Engine, message: str) -> None:
    with engine.begin() as connection:
        command.revision(_config(connection), message=message, autogenerate=True)


if __name__ == "__main__" and len(sys.argv) == 3 and sys.argv[1] == "revision":
    import tempfile

    from core.store.engine import make_engine

    with tempfile.TemporaryDirectory() as tmp:
        scratch = make_engine(f"sqlite:///{tmp}/scratch.db")
        upgrade(scratch)
        autogenerate(scratch, sys.argv[2])
