"""Schema migrations (alembic), applied by the core at start-up.

python -m core.store.migrate revision "message"   # autogenerate a revision from tables.py
"""

from __future__ import annotations

import pathlib
import sys

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

MIGRATIONS = pathlib.Path(__file__).resolve().parent / "migrations"


def _config(connection: object) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine) -> None:
    """Bring the database to the newest revision (safe to call on every start)."""
    with engine.begin() as connection:
        command.upgrade(_config(connection), "head")


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
