"""Batches with two ACTIVE cores (RINGSIDE_CORE_SHARE=fair, the default on PostgreSQL; issue 25):
the worker's starter asks one core for the pending batches, that core asks the other and merges
(core/rpc/fanout.py), so a batch of either core's accounts runs — each completed, each line billed
once, no hold left open — with Temporal, the worker, the edge and both cores as real processes."""

from __future__ import annotations

import secrets
import sys
from collections.abc import Iterator

import pytest

from ringside_server.partitions import DEFAULT_PARTITIONS, partition_of
from tests.e2e.active_cores import serving_its_half
from tests.harness import Stack, free_port, port_open, start_process, stop_process, wait_until
from tests.workers.batch_stack import (
    batch_stack,
    chat_line,
    cost_of,
    file_lines,
    finished,
    open_holds,
    sdk,
    spend,
    submit,
)
from tests.workers.webhook_stack import WebhookStack

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def two_core_hooks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebhookStack]:
    with batch_stack("postgres", tmp_path_factory.mktemp("batches-active")) as running:
        yield running


def _customer(stack: Stack, key: str) -> str:
    """A customer, created right after a hand-back: answered at once (the routing waits out the
    partition changing hands, ringside_server/core_routing.py), never a 503."""
    answer = stack.call("POST", "/v1/customers", key, {"external_id": "ba_" + secrets.token_hex(5)})
    assert answer.status == 201, answer.body
    return str(answer.json()["id"])


def test_batches_of_both_cores_accounts_run_to_completion(two_core_hooks: WebhookStack) -> None:
    hooks = two_core_hooks  # (not named `hooks`: that one is parametrized by backend, tests/conftest.py)
    stack = hooks.stack
    accounts: dict[int, dict[str, str]] = {}  # partition parity → an account (made while one core serves)
    for _ in range(40):
        account = stack.new_account()
        accounts.setdefault(partition_of(account["id"], DEFAULT_PARTITIONS) % 2, account)
        if len(accounts) == 2:
            break
    assert len(accounts) == 2
    port_b = free_port()
    env = {
        **stack.env,
        "RINGSIDE_GRPC_PORT": str(port_b),
        "RINGSIDE_CORE_ID": "core-b",
        "RINGSIDE_CORE_ADVERTISE_ADDRESS": f"127.0.0.1:{port_b}",
        "RINGSIDE_LOG_LEVEL": "INFO",
    }
    core_b = start_process([sys.executable, "-m", "ringside_cli", "core"], env, stack.data_dir / "core-b.log")
    try:
        wait_until(lambda: port_open(port_b), 60, "core-b's port")
        wait_until(
            lambda: (
                sorted(count for _, count in stack.query("SELECT owner, COUNT(*) FROM partition_leases GROUP BY owner"))
                == [128, 128]
            ),
            60,
            "each core's half",
        )

        wait_until(lambda: serving_its_half(stack.data_dir / "core-b.log"), 60, "core-b to serve its half")
        owners = dict(stack.query("SELECT partition, owner FROM partition_leases"))
        served_by = {p: owners[partition_of(a["id"], DEFAULT_PARTITIONS)] for p, a in accounts.items()}
        assert len(set(served_by.values())) == 2, served_by  # one account on each core
        runs = []
        for account in accounts.values():
            customer = _customer(stack, account["live"])
            client = sdk(hooks, account["live"], customer)
            batch = submit(client, [chat_line(f"line-{n}", f"question {n}") for n in range(3)])
            runs.append((account, customer, client, batch.id))
        for account, customer, client, batch_id in runs:
            done = finished(client, batch_id)  # started by the worker from the merged pending list
            assert (done.request_counts.completed, done.request_counts.failed) == (3, 0)
            output = file_lines(client, done.output_file_id)
            assert sorted(line["custom_id"] for line in output) == ["line-0", "line-1", "line-2"]
            assert spend(hooks, account["live"], customer) == cost_of(output)  # each line billed once
            assert open_holds(hooks, customer) == 0
        assert stack.audit().ok
    finally:
        stop_process(core_b)
