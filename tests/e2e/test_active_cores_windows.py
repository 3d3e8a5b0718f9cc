"""Two ACTIVE cores on one PostgreSQL database (RINGSIDE_CORE_SHARE=fair, issue 25): a customer's
rate-limit window goes with its partition — handed over in the release's transaction when core-a
hands the partition back, taken from the dead core's last checkpoint when core-a takes it over."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable

import pytest

from tests.e2e.active_cores import half, start_core_b
from tests.e2e.test_core_failover import MODEL
from tests.harness import Stack, stop_process, wait_until

pytestmark = pytest.mark.postgres
RPM = 5


def test_a_customers_rpm_window_moves_with_its_partition_when_it_is_handed_back(two_cores: tuple[Stack, int]) -> None:
    """core-a alone admits a customer's RPM limit in full; core-b starts and core-a hands it the
    customer's partition: the window goes along (in the release's transaction), so core-b refuses
    the next call with 429 until the first calls leave their minute — an empty window there would
    admit RPM more."""
    stack, port_b = two_cores
    account = next(a for a in (stack.new_account() for _ in range(60)) if half(a["id"]) == 1)  # core-b's half
    created = stack.call("POST", "/v1/customers", account["live"], {"external_id": "rpm", "rate_limit_rpm": RPM})
    assert created.status in (200, 201), created.body
    customer_id = created.json()["id"]
    call = _caller(stack, account["live"], customer_id)

    assert [call() for _ in range(RPM)] == [(200, "")] * RPM  # core-a admits them
    assert call() == (429, "customer_rate_limit_exceeded")
    log_b = stack.data_dir / "core-b-rpm.log"
    core_b = start_core_b(stack, port_b, log_b)
    try:
        handed = stack.data_dir / "core.log"
        wait_until(lambda: "rate-limit windows with them" in handed.read_text(errors="replace"), 30, "the hand-back")
        handed_over = re.findall(r"(\d+) rate-limit windows handed over", log_b.read_text(errors="replace"))
        assert handed_over and int(handed_over[0]) >= 1, handed_over  # the customer's at least
        _refused_by_the_new_owner(stack, call, customer_id)  # core-b counts core-a's calls
    finally:
        stop_process(core_b)


def test_a_dead_cores_rpm_windows_are_taken_over_from_its_last_checkpoint(two_cores: tuple[Stack, int]) -> None:
    """core-b admits a customer's RPM limit in full and checkpoints the window (every
    RINGSIDE_CORE_WINDOW_CHECKPOINT_S, 1 s); SIGKILL core-b: core-a takes its partitions over with
    the checkpoint and refuses the next calls with 429 — with empty windows it would admit RPM more
    (the loss a takeover had before checkpoints). The bound: only what core-b admitted after its last
    checkpoint could be admitted again; here nothing, the checkpoint holding every call."""
    stack, port_b = two_cores
    account = next(a for a in (stack.new_account() for _ in range(60)) if half(a["id"]) == 1)  # core-b's half
    log_b = stack.data_dir / "core-b-checkpoint.log"
    core_b = start_core_b(stack, port_b, log_b)
    try:
        created = stack.call("POST", "/v1/customers", account["live"], {"external_id": "ck", "rate_limit_rpm": RPM})
        assert created.status in (200, 201), created.body
        customer_id = created.json()["id"]
        call = _caller(stack, account["live"], customer_id)

        assert [call() for _ in range(RPM)] == [(200, "")] * RPM  # core-b admits them
        assert call() == (429, "customer_rate_limit_exceeded")

        def checkpointed() -> int:
            rows = stack.query(
                "SELECT entries_json FROM partition_windows WHERE window_key = ?", f'["customer","{customer_id}"]'
            )
            return sum(requests for row in rows for _, requests, _ in json.loads(row[0]))

        wait_until(lambda: checkpointed() == RPM, 30, "core-b's checkpoint of the customer's window")
        core_a_log = stack.data_dir / "core.log"
        taken_before = core_a_log.read_text(errors="replace").count("serving 128 more partitions")
        core_b.kill()  # SIGKILL: no release, no hand-back of its windows
        core_b.wait()
        wait_until(
            lambda: core_a_log.read_text(errors="replace").count("serving 128 more partitions") > taken_before,
            60,
            "core-a's takeover",
        )
        _refused_by_the_new_owner(stack, call, customer_id)  # core-a counts core-b's calls
    finally:
        stop_process(core_b)


def _caller(stack: Stack, key: str, customer_id: str) -> Callable[[], tuple[int, str]]:
    """One chat call for the customer through the edge → (status, error code or "")."""
    body = {"model": MODEL, "max_tokens": 8, "messages": [{"role": "user", "content": "within the minute"}]}

    def call() -> tuple[int, str]:
        answer = stack.call("POST", "/v1/chat/completions", key, body, headers={"FC-Customer": customer_id})
        return answer.status, answer.json().get("error", {}).get("code", "") if answer.status != 200 else ""

    return call


def _refused_by_the_new_owner(stack: Stack, call: Callable[[], tuple[int, str]], customer_id: str) -> None:
    """Past the edge's lease window (whatever it admits now, the partition's new owner decided):
    the customer, at its RPM on the old owner, is refused 429, and only the first RPM calls billed."""
    time.sleep(1.5)
    for _ in range(3):
        assert call() == (429, "customer_rate_limit_exceeded")
    (posted,) = stack.query("SELECT COUNT(*) FROM usage_records WHERE customer_id = ?", customer_id)[0]
    assert int(posted) == RPM
