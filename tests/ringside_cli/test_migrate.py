"""Schema versions (issue 27, item 5; DECISIONS.md "25"): a core creates an empty database's
schema, refuses one older or newer than its code, and `ringside migrate` brings an older one up."""

from __future__ import annotations

import contextlib
import datetime
import pathlib
import sqlite3
import subprocess
import sys
import threading

import pytest
from alembic import command

from core.store.engine import make_engine
from core.store.migrate import _config, head_revision
from tests.harness import FakeUpstream, Stack, create_postgres_database, wait_until

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


OLDEST = "0001"
CHAT = {"model": "fc:openai/gpt-4o-mini", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_database_at_the_oldest_schema_with_money_in_it_upgrades_with_a_clean_ledger(
    backend: str, tmp_path: pathlib.Path, upstream: FakeUpstream
) -> None:
    """Customers, a wallet, usage and the edge's open lease, written by this code, then taken down
    to the oldest revision (each migration's downgrade), then `ringside migrate`: every upgrade step
    runs over real rows, and the ledger audit stays clean."""
    stack = Stack(backend, tmp_path, upstream, database_url=create_postgres_database() if backend == "postgres" else "")
    try:
        stack.start()
        key = stack.test_key
        assert stack.call("POST", "/v1/customers", key, {"external_id": "old", "budget_usd": 5}).status == 201
        assert stack.call("POST", "/v1/customers/ext:old/wallet/topup", key, {"amount_usd": 3}).status == 200
        for _ in range(5):
            answer = stack.call("POST", "/v1/chat/completions", key, CHAT, headers={"FC-Customer": "ext:old"})
            assert answer.status == 200, answer.body
        before = stack.call("GET", "/v1/customers/ext:old", key).json()
        # until tomorrow's midnight: today is a whole day, read from the daily aggregates alone
        tomorrow = (datetime.datetime.now(datetime.UTC).date() + datetime.timedelta(days=1)).isoformat()
        usage_before = stack.call("GET", f"/v1/usage?group_by=day&until={tomorrow}", key).json()
        assert usage_before["request_count"] == 5
        marker = f"[[fake:slow=5000]] in flight {tmp_path.name}"
        slow = {**CHAT, "messages": [{"role": "user", "content": marker}]}

        def call_until_killed() -> None:
            with contextlib.suppress(OSError):  # the edge is killed under it
                stack.call("POST", "/v1/chat/completions", stack.live_key, slow)

        in_flight = threading.Thread(target=call_until_killed, daemon=True)
        in_flight.start()
        wait_until(lambda: any(marker in str(r) for r in upstream.requests()), 30, "the call to reach the provider")
        stack.kill()  # mid-call: its hold is still open in the database, as after a crash
        assert stack.query("SELECT count(*) FROM holds WHERE state = 'open'") == [(1,)]
        engine = make_engine(stack.env.get("RINGSIDE_DATABASE_URL") or f"sqlite:///{tmp_path}/ringside.db")
        try:
            with engine.begin() as connection:
                command.downgrade(_config(connection), OLDEST)
        finally:
            engine.dispose()
        assert _cli(stack.env, "core").returncode == 2  # refused until migrated
        migrated = _cli(stack.env, "migrate")
        assert migrated.returncode == 0 and f"{OLDEST} → {head_revision()}" in migrated.stdout, migrated.stderr
        stack.start()
        audit = stack.audit()
        assert audit.ok and audit.imbalance_nano_usd == 0, audit
        assert audit.open_holds == 1  # kept through every migration, resolved at its expiry as before
        after = stack.call("GET", "/v1/customers/ext:old", key).json()
        assert (after["id"], after["budget_usd"]) == (before["id"], before["budget_usd"])
        assert after["spend_usd_mtd"] >= before["spend_usd_mtd"]
        # the daily aggregates (revision 0027) sum the records already there, once
        usage_after = stack.call("GET", f"/v1/usage?group_by=day&until={tomorrow}", key).json()
        assert usage_after == usage_before
        wallet = stack.call("GET", "/v1/customers/ext:old/wallet", key)
        assert wallet.status == 200, wallet.body
    finally:
        stack.destroy()
