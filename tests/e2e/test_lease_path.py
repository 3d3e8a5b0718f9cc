"""The lease fast path end to end (API.md "Holds, expiry, late settles", "Budgets"): a customer pays
the same on the lease path as on the per-call path (and, near a cap, should be admitted the same), a
revoked key or a blocked customer is refused within the lease window, and a burst leaves a balanced
ledger with every lease closed."""

from __future__ import annotations

import pathlib
import secrets
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest

from tests.harness import FakeUpstream, Response, Stack, wait_until

# Money, holds or stored records: the result can depend on the store (docs/testing.md).
pytestmark = pytest.mark.both_backends

MODEL = "fc:openai/gpt-4o-mini"
LEASE_WINDOW_S = 1.0  # RINGSIDE_LEASE_WINDOW_S's default
RECORDED_TIMEOUT_S = 15.0
BURST_CALLS = 300
BURST_WORKERS = 48


def _message(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


# Twenty calls of every shape the edge prices: plain, streamed with and without usage, several
# choices, no output bound (the model's maximum is held), an answer cut mid-stream (usage counted by
# Ringside), and upstream failures (recorded, not counted as requests).
CALLS: list[dict[str, Any]] = [
    *({"max_tokens": 5 + 3 * i, "messages": _message(f"plain call {i} " + "word " * i)} for i in range(6)),
    {"messages": _message("no output bound")},
    {"max_completion_tokens": 12, "messages": _message("max_completion_tokens")},
    {"max_tokens": 9, "n": 2, "messages": _message("two choices")},
    {"max_tokens": 7, "n": 3, "messages": _message("three choices")},
    {"stream": True, "max_tokens": 11, "messages": _message("stream without usage")},
    {
        "stream": True,
        "max_tokens": 13,
        "stream_options": {"include_usage": True},
        "messages": _message("stream with usage"),
    },
    {"stream": True, "messages": _message("stream, no bound")},
    {"stream": True, "max_tokens": 30, "messages": _message("[[fake:midstream_error]]cut short")},
    {"max_tokens": 10, "messages": _message("[[fake:status=500]]upstream down")},
    {"stream": True, "max_tokens": 10, "messages": _message("[[fake:status=500]]stream upstream down")},
    {"max_tokens": 10, "messages": _message("[[fake:status=429]]upstream rate limited")},
    {"max_tokens": 4, "user": "ignored-unknown-user", "messages": _message("with a user field")},
    {"max_tokens": 6, "messages": [{"role": "system", "content": "be brief"}, *_message("with a system prompt")]},
    {"max_tokens": 8, "messages": _message("the last plain call")},
]


@pytest.fixture(scope="module")
def per_call_stack(stack: Stack, tmp_path_factory: pytest.TempPathFactory, upstream: FakeUpstream) -> Iterator[Stack]:
    """A second stack on the same backend with the lease path turned off."""
    data_dir: pathlib.Path = tmp_path_factory.mktemp(f"per-call-{stack.backend}")
    other = Stack(stack.backend, data_dir, upstream, extra_env={"RINGSIDE_LEASES": "false"})
    try:
        yield other.start()
    finally:
        other.destroy()


@pytest.fixture(scope="module")
def long_window_stack(
    stack: Stack, tmp_path_factory: pytest.TempPathFactory, upstream: FakeUpstream
) -> Iterator[Stack]:
    """A lease-path stack whose leases admit for 10 s: what happens inside one window, without racing it."""
    data_dir: pathlib.Path = tmp_path_factory.mktemp(f"long-window-{stack.backend}")
    other = Stack(stack.backend, data_dir, upstream, extra_env={"RINGSIDE_LEASE_WINDOW_S": "10"})
    try:
        yield other.start()
    finally:
        other.destroy()


def _new_customer(stack: Stack, key: str | None = None, **fields: object) -> str:
    body = {"external_id": "lease_" + secrets.token_hex(6), **fields}
    response = stack.call("POST", "/v1/customers", key or stack.live_key, body)
    assert response.status == 201, response.body
    return str(response.json()["id"])


def _chat(stack: Stack, key: str, customer_id: str, body: dict[str, Any]) -> Response:
    return stack.call(
        "POST", "/v1/chat/completions", key, {"model": MODEL, **body}, headers={"FC-Customer": customer_id}
    )


def _statuses_of_concurrent_calls(stack: Stack, customer_id: str, bodies: list[dict[str, Any]]) -> list[int]:
    """A few calls at once, so several leases are in play and some calls go the per-call way."""
    with ThreadPoolExecutor(max_workers=6) as pool:
        return list(pool.map(lambda body: _chat(stack, stack.live_key, customer_id, body).status, bodies))


def _usage_rows(stack: Stack, customer_id: str) -> list[tuple[Any, ...]]:
    return stack.query(
        "SELECT status, posted_nano, billable_nano, hold_id FROM usage_records WHERE customer_id = ?", customer_id
    )


def _recorded(stack: Stack, customer_id: str, calls: int) -> list[tuple[Any, ...]]:
    """The customer's usage rows once all `calls` are recorded (lease reports land just after the answer)."""
    return list(
        wait_until(
            lambda: len(rows := _usage_rows(stack, customer_id)) >= calls and rows,
            RECORDED_TIMEOUT_S,
            f"{calls} calls of {customer_id} to be recorded",
        )
    )


def _customer(stack: Stack, customer_id: str) -> dict[str, Any]:
    response = stack.call("GET", f"/v1/customers/{customer_id}", stack.live_key)
    assert response.status == 200, response.body
    return dict(response.json())


def test_the_lease_path_charges_exactly_what_the_per_call_path_charges(stack: Stack, per_call_stack: Stack) -> None:
    outcomes: dict[str, tuple[list[int], list[tuple[Any, ...]], dict[str, Any]]] = {}
    for name, target in (("lease", stack), ("per_call", per_call_stack)):
        customer_id = _new_customer(target, budget_usd="5")  # a cap that never binds: room rules run, same result
        statuses = _statuses_of_concurrent_calls(target, customer_id, CALLS)
        rows = _recorded(target, customer_id, len(CALLS))
        outcomes[name] = (statuses, rows, _customer(target, customer_id))
    (lease_statuses, lease_rows, lease_customer) = outcomes["lease"]
    (call_statuses, call_rows, call_customer) = outcomes["per_call"]
    assert lease_statuses == call_statuses
    assert {200, 502}.issubset(set(lease_statuses))  # the shapes above did reach both outcomes
    # Both paths really were taken: calls under a lease name it (some calls of a burst go per call).
    assert any(row[3] for row in lease_rows) and not any(row[3] for row in call_rows)
    assert Counter((row[0], row[1], row[2]) for row in lease_rows) == Counter(
        (row[0], row[1], row[2]) for row in call_rows
    )
    assert Decimal(str(lease_customer["spend_usd_mtd"])) == Decimal(str(call_customer["spend_usd_mtd"])) > 0
    assert lease_customer["request_count_mtd"] == call_customer["request_count_mtd"]
    assert lease_customer["request_count_mtd"] == sum(row[0] != "failed" for row in lease_rows) < len(CALLS)


def test_near_the_cap_the_lease_path_admits_what_the_per_call_path_admits(
    long_window_stack: Stack, per_call_stack: Stack
) -> None:
    # Each call holds ~100 output tokens but uses ~16: a lease's calls leave most of its money unused.
    outcomes: dict[str, tuple[list[int], Decimal]] = {}
    for name, target in (("lease", long_window_stack), ("per_call", per_call_stack)):
        customer_id = _new_customer(target, budget_usd="0.0003")
        statuses = [
            _chat(target, target.live_key, customer_id, {"max_tokens": 100, "messages": _message(f"n{i}")}).status
            for i in range(40)
        ]
        admitted = sum(status == 200 for status in statuses)
        _recorded(target, customer_id, admitted)
        outcomes[name] = (statuses, Decimal(str(_customer(target, customer_id)["spend_usd_mtd"])))
    assert 402 in outcomes["per_call"][0]  # the cap was reached
    assert outcomes["lease"] == outcomes["per_call"]


def _refused_within_the_window(stack: Stack, key: str, customer_id: str, status: int, code: str) -> list[Response]:
    """Call until the edge refuses (bounded by the lease window plus slack); returns the calls
    admitted meanwhile, under the lease the caller already had."""
    body = {"max_tokens": 5, "messages": _message("after the change")}
    admitted: list[Response] = []

    def refused() -> Response | None:
        response = _chat(stack, key, customer_id, body)
        assert response.status in (200, status), response.body
        if response.status == 200:
            admitted.append(response)
            return None
        return response

    response = wait_until(refused, LEASE_WINDOW_S + 4, f"calls to be refused with {code}", interval_s=0.02)
    assert response.json()["error"]["code"] == code
    # Refused for good, not just once.
    assert [_chat(stack, key, customer_id, body).status for _ in range(3)] == [status] * 3
    return admitted


def _warm_lease(stack: Stack, key: str, customer_id: str) -> None:
    """A few calls, so the caller holds a fresh lease with money left on it."""
    for _ in range(3):
        assert _chat(stack, key, customer_id, {"max_tokens": 5, "messages": _message("before")}).status == 200


def test_a_revoked_key_stops_working_within_the_lease_window(stack: Stack) -> None:
    created = stack.call("POST", "/v1/api_keys", stack.live_key, {"mode": "live", "scopes": ["api:write"]})
    assert created.status == 201, created.body
    key = created.json()
    customer_id = _new_customer(stack)
    _warm_lease(stack, key["secret"], customer_id)
    deleted = stack.call("DELETE", f"/v1/api_keys/{key['id']}", stack.live_key)
    assert deleted.status == 200, deleted.body
    admitted = _refused_within_the_window(stack, key["secret"], customer_id, 401, "invalid_api_key")
    assert _chat(stack, key["secret"], "", {"messages": _message("unattributed")}).status == 401
    # Every call it made is paid for, and nothing after the refusal was admitted.
    made = 3 + len(admitted)
    rows = _recorded(stack, customer_id, made)
    assert len(rows) == made and all(row[0] == "completed" for row in rows)


def test_a_blocked_customer_is_refused_within_the_lease_window_and_unblocked_again(stack: Stack) -> None:
    customer_id = _new_customer(stack)
    _warm_lease(stack, stack.live_key, customer_id)
    blocked = stack.call("PATCH", f"/v1/customers/{customer_id}", stack.live_key, {"blocked": True})
    assert blocked.status == 200, blocked.body
    admitted = _refused_within_the_window(stack, stack.live_key, customer_id, 403, "customer_blocked")
    unblocked = stack.call("PATCH", f"/v1/customers/{customer_id}", stack.live_key, {"blocked": False})
    assert unblocked.status == 200, unblocked.body
    body = {"max_tokens": 5, "messages": _message("unblocked")}
    wait_until(
        lambda: _chat(stack, stack.live_key, customer_id, body).status == 200,
        LEASE_WINDOW_S + 4,
        "the unblocked customer to be admitted again",
        interval_s=0.02,
    )
    rows = _recorded(stack, customer_id, 3 + len(admitted) + 1)
    assert len(rows) == 3 + len(admitted) + 1


def test_a_burst_on_leases_leaves_a_balanced_ledger_and_no_open_lease(stack: Stack) -> None:
    customer_id = _new_customer(stack)
    with ThreadPoolExecutor(max_workers=BURST_WORKERS) as pool:
        responses = list(
            pool.map(
                lambda i: _chat(stack, stack.live_key, customer_id, {"max_tokens": 12, "messages": _message(f"b{i}")}),
                range(BURST_CALLS),
            )
        )
    assert [r.status for r in responses] == [200] * BURST_CALLS
    request_ids = {r.headers["x-request-id"] for r in responses}
    assert len(request_ids) == BURST_CALLS
    rows = _recorded(stack, customer_id, BURST_CALLS)
    assert len(rows) == BURST_CALLS
    assert any(row[3] for row in rows), "the burst never used a lease"
    placeholders = ",".join("?" for _ in request_ids)
    recorded_ids = stack.query(
        f"SELECT request_id FROM usage_records WHERE request_id IN ({placeholders})", *request_ids
    )
    assert len(recorded_ids) == BURST_CALLS  # every answer the client saw has its own record
    # Once the lease window has passed every lease is closed and its rest released.
    wait_until(lambda: stack.audit().open_holds == 0, LEASE_WINDOW_S + RECORDED_TIMEOUT_S, "every lease to close")
    open_leases = stack.query("SELECT COUNT(*) FROM holds WHERE customer_id = ? AND state = 'open'", customer_id)
    assert open_leases[0][0] == 0
    audit = stack.audit()
    assert audit.ok and audit.imbalance_nano_usd == 0 and audit.memory_mismatches == 0, audit
    after = _customer(stack, customer_id)
    assert after["request_count_mtd"] == BURST_CALLS
    spend_nano = int(Decimal(str(after["spend_usd_mtd"])).scaleb(9))
    assert spend_nano == sum(int(row[1]) for row in rows) > 0
