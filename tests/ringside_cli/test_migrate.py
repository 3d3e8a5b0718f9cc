"""Schema versions (issue 27, item 5; DECISIONS.md "25"): a core creates an empty database's
schema, refuses one older or newer than its code, and `ringside migrate` brings an older one up."""

from __future__ import annotations

import pathlib
import sqlite3
import subprocess
import sys

from alembic import command

from core.store.engine import make_engine
from core.store.migrate import _config, head_revision
from tests.harness import Stack

PREVIOUS = "0011"


def _cli(env: dict[str, str], *args: str, timeout_s: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ringside_cli", *args], env=env, capture_output=True, text=True, timeout=timeout_s
    )


def _database_at(path: pathlib.Path, revision: str) -> None:
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as connection:
            command.upgrade(_config(connection), revision)
    finally:
        engine.dispose()


def test_a_core_refuses_an_older_schema_until_migrated(tmp_path: pathlib.Path) -> None:
    stack = Stack("sqlite", tmp_path, None)
    tmp_path.mkdir(exist_ok=True)
    _database_at(tmp_path / "ringside.db", PREVIOUS)
    refused = _cli(stack.env, "core")
    assert refused.returncode == 2, refused.stderr
    assert f"revision {PREVIOUS}" in refused.stderr and "ringside migrate" in refused.stderr
    migrated = _cli(stack.env, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert f"{PREVIOUS} → {head_revision()}" in migrated.stdout
    assert f"schema at {head_revision()}" in _cli(stack.env, "migrate").stdout  # twice: nothing to do
    stack.start()
    try:
        assert stack.audit().ok
    finally:
        stack.stop()


def test_a_core_refuses_a_schema_newer_than_its_code(tmp_path: pathlib.Path) -> None:
    stack = Stack("sqlite", tmp_path, None)
    tmp_path.mkdir(exist_ok=True)
    _database_at(tmp_path / "ringside.db", "head")
    with sqlite3.connect(tmp_path / "ringside.db") as database:
        database.execute("UPDATE alembic_version SET version_num = '9999'")
    refused = _cli(stack.env, "core")
    assert refused.returncode == 2 and "does not know" in refused.stderr, refused.stderr
