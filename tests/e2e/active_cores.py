"""Two ACTIVE cores on one PostgreSQL database (RINGSIDE_CORE_SHARE=fair, issue 25), for the e2e
tests that run them (tests/e2e/test_active_cores.py, tests/e2e/test_active_cores_rag.py): the
settings that make a `Stack`'s core "core-a" of two, core-b started beside it, and accounts made
in each core's half of the partitions."""

from __future__ import annotations

import pathlib
import subprocess
import sys
from typing import Any

from ringside_server.partitions import DEFAULT_PARTITIONS, partition_of
from tests.harness import Stack, port_open, start_process, wait_until

# 2 s let a renewal stalled by a loaded machine (CI runs two files at once) lose a partition
LEASE_TTL_S = 3
CORE_NAMES = ("core-a", "core-b")  # sorted: core-a prefers the even partitions once both are live


def fair_env(stack: Stack, port_b: int) -> dict[str, str]:
    """`stack.extra_env` for its core to be core-a of two fair cores (core-b on `port_b`)."""
    return {
        "RINGSIDE_CORE_SHARE": "fair",
        "RINGSIDE_CORE_LEASE_TTL_S": str(LEASE_TTL_S),
        "RINGSIDE_CORE_ID": "core-a",
        "RINGSIDE_CORE_ADVERTISE_ADDRESS": f"127.0.0.1:{stack.grpc_port}",
        "RINGSIDE_CORE_ADDRESS": f"ipv4:127.0.0.1:{stack.grpc_port},127.0.0.1:{port_b}",
        "RINGSIDE_LOG_LEVEL": "INFO",
    }


def core_env(stack: Stack, name: str, port: int) -> dict[str, str]:
    """The environment of another core of `stack` (same database and data dir) on `port`."""
    return {
        **stack.env,
        "RINGSIDE_GRPC_PORT": str(port),
        "RINGSIDE_CORE_ID": name,
        "RINGSIDE_CORE_ADVERTISE_ADDRESS": f"127.0.0.1:{port}",
        "RINGSIDE_LOG_LEVEL": "INFO",
    }


def start_core_b(stack: Stack, port_b: int, log_b: pathlib.Path) -> subprocess.Popen[bytes]:
    """core-b started beside core-a (which holds every partition): core-a hands it its half."""
    core_b = start_process([sys.executable, "-m", "ringside_cli", "core"], core_env(stack, "core-b", port_b), log_b)
    wait_until(lambda: port_open(port_b), 60, "core-b's port")
    wait_until(lambda: serving_its_half(log_b), 60, "core-b's share")
    owners = dict(stack.query("SELECT owner, COUNT(*) FROM partition_leases GROUP BY owner"))
    assert owners == {"core-a": 128, "core-b": 128}, owners
    return core_b


def serving_its_half(log_b: pathlib.Path) -> bool:
    """core-b serves its half: handed to it after its start and loaded, or — when core-a released
    them before core-b's first claim (core-a's round came first) — claimed at its start."""
    text = log_b.read_text(errors="replace")
    return "serving 128 more partitions" in text or "starts with 128 partitions" in text


def half(account_id: str) -> int:
    """0: core-a's half of the partitions with two cores (core-a sorts first), 1: core-b's."""
    return partition_of(account_id, DEFAULT_PARTITIONS) % 2


def owner_of(stack: Stack, account_id: str) -> str:
    """The core holding `account_id`'s partition now (its lease row)."""
    rows = stack.query(
        "SELECT owner FROM partition_leases WHERE partition = ?", partition_of(account_id, DEFAULT_PARTITIONS)
    )
    return str(rows[0][0])


def accounts_on_both(stack: Stack, per_core: int) -> list[dict[str, Any]]:
    """Accounts made while core-a is alone (a new account's id is in its creating core's
    partitions), until each half has `per_core` of them: core-a's first, then core-b's."""
    halves: dict[int, list[dict[str, Any]]] = {0: [], 1: []}
    for _ in range(60):
        account = stack.new_account()
        found = halves[half(account["id"])]
        if len(found) < per_core:
            found.append(account)
        if all(len(h) == per_core for h in halves.values()):
            return halves[0] + halves[1]
    raise AssertionError("60 accounts never filled both halves")
