"""A settle that arrives after its hold expired corrects to the call's actual amount, on both paths
(API.md "Holds, expiry, late settles"; issue 14, item 2). The edge keeps the call open, but the core
is killed and comes back after the TTL: it expires the hold (or the lease: its admitted call at its
estimate) on start, then the edge's settle (or lease report) arrives and refunds the difference —
where a lease report used to be dropped ("reported for lease …, which is no longer open")."""

from __future__ import annotations

import pathlib
import secrets
import threading
import time
from collections.abc import Iterator
from decimal import Decimal

import pytest

from tests.harness import FakeUpstream, Response, Stack, wait_until

MODEL = "fc:openai/gpt-4o-mini"
HOLD_TTL_S = 5
CORE_DOWN_S = HOLD_TTL_S + 3  # longer than the TTL since the hold's last extension


@pytest.fixture(params=["sqlite-per_call", "sqlite-lease", "postgres-per_call", "postgres-lease"])
def ttl_stack(request: pytest.FixtureRequest, tmp_path: pathlib.Path, upstream: FakeUpstream) -> Iterator[Stack]:
    backend, path = request.param.split("-")
    env = {
        "RINGSIDE_HOLD_TTL_S": str(HOLD_TTL_S),
        "RINGSIDE_LEASES": str(path == "lease").lower(),
        "RINGSIDE_UPSTREAM_TIMEOUT_S": "60",
    }
    stack = Stack(backend, tmp_path / "data", upstream, extra_env=env)
    yield stack.start()
    stack.destroy()


def cost_nano(usage: dict[str, int]) -> int:
    """gpt-4o-mini: $0.15 / $0.60 per million tokens; the account's markup is 0."""
    return -(-(usage["prompt_tokens"] * 150_000_000 + usage["completion_tokens"] * 600_000_000) // 1_000_000)


def test_a_settle_after_the_expiry_corrects_to_the_actual_amount(ttl_stack: Stack) -> None:
    stack = ttl_stack
    body = {"external_id": "late_" + secrets.token_hex(4)}
    customer_id = stack.call("POST", "/v1/customers", stack.live_key, body).json()["id"]
    # 4 tokens 4 s apart: the answer comes ~16 s after the call starts, after the core is back.
    call = {"model": MODEL, "max_tokens": 4, "messages": [{"role": "user", "content": "[[fake:slow=4000]]late"}]}
    answers: list[Response] = []

    def run() -> None:
        headers = {"FC-Customer": customer_id}
        answers.append(stack.call("POST", "/v1/chat/completions", stack.live_key, call, headers=headers, timeout_s=90))

    caller = threading.Thread(target=run, daemon=True)
    caller.start()
    # Held durably (a lease: the call reported admitted) before the core goes down.
    admitted = (
        "SELECT COUNT(*) FROM holds h WHERE h.customer_id = ? AND (h.kind = 'call' OR EXISTS "
        "(SELECT 1 FROM lease_admissions a WHERE a.lease_id = h.id))"
    )
    wait_until(lambda: stack.query(admitted, customer_id)[0][0] > 0, 10, "the call to be held")
    stack.kill_role("core")
    time.sleep(CORE_DOWN_S)  # the outage itself: the hold's TTL passes while the core is down
    stack.start_core()
    caller.join(timeout=60)
    (answer,) = answers
    assert answer.status == 200, answer.body[:300]
    request_id = answer.headers["x-request-id"]
    actual = cost_nano(answer.json()["usage"])

    def record() -> tuple[str, int] | None:
        rows = stack.query("SELECT status, posted_nano FROM usage_records WHERE request_id = ?", request_id)
        return (str(rows[0][0]), int(rows[0][1])) if rows and str(rows[0][0]).startswith("late_") else None

    status, posted = wait_until(record, 30, "the late settle to correct the expiry")
    assert (status, posted) == ("late_completed", actual)
    expired = stack.query("SELECT COUNT(*) FROM holds WHERE customer_id = ? AND state = 'expired'", customer_id)
    assert expired[0][0] == 1  # it did expire: the correction is what billed it right
    wait_until(lambda: stack.audit().open_holds == 0, 30, "every hold to be resolved")
    audit = stack.audit()
    assert audit.ok, audit
    customer = stack.call("GET", f"/v1/customers/{customer_id}", stack.live_key).json()
    assert int(Decimal(str(customer["spend_usd_mtd"])).scaleb(9)) == actual
    assert customer["request_count_mtd"] == 1


def test_a_call_finishing_while_the_core_is_down_is_settled_when_it_is_back(ttl_stack: Stack) -> None:
    """The core is down when the call ends, for longer than the edge's quick settle retries (~10 s)
    and the TTL: the answer goes out, the edge keeps the settle (or the lease report) and retries it
    in the background; once the core is back it corrects the expiry to the actual amount."""
    stack = ttl_stack
    body = {"external_id": "down_" + secrets.token_hex(4)}
    customer_id = stack.call("POST", "/v1/customers", stack.live_key, body).json()["id"]
    call = {"model": MODEL, "max_tokens": 4, "messages": [{"role": "user", "content": "[[fake:slow=1000]]down"}]}
    answers: list[Response] = []

    def run() -> None:
        headers = {"FC-Customer": customer_id}
        answers.append(stack.call("POST", "/v1/chat/completions", stack.live_key, call, headers=headers, timeout_s=90))

    caller = threading.Thread(target=run, daemon=True)
    caller.start()
    admitted = (
        "SELECT COUNT(*) FROM holds h WHERE h.customer_id = ? AND (h.kind = 'call' OR EXISTS "
        "(SELECT 1 FROM lease_admissions a WHERE a.lease_id = h.id))"
    )
    wait_until(lambda: stack.query(admitted, customer_id)[0][0] > 0, 10, "the call to be held")
    stack.kill_role("core")
    caller.join(timeout=60)  # answered while the core is down
    (answer,) = answers
    assert answer.status == 200, answer.body[:300]
    time.sleep(12)  # the outage goes on past the edge's quick retries (~10 s) and the hold's TTL
    stack.start_core()
    request_id = answer.headers["x-request-id"]
    actual = cost_nano(answer.json()["usage"])

    def record() -> tuple[str, int] | None:
        rows = stack.query("SELECT status, posted_nano FROM usage_records WHERE request_id = ?", request_id)
        return (str(rows[0][0]), int(rows[0][1])) if rows and str(rows[0][0]).startswith("late_") else None

    assert wait_until(record, 60, "the background settle to correct the expiry") == ("late_completed", actual)
    wait_until(lambda: stack.audit().open_holds == 0, 30, "every hold to be resolved")
    audit = stack.audit()
    assert audit.ok, audit
