"""A settle that arrives after its hold expired corrects to the call's actual amount, on both paths
(API.md "Holds, expiry, late settles"; issue 14, item 2). The edge keeps the call open, but the core
is killed and comes back after the TTL: it expires the hold (or the lease: its admitted call at its
estimate) on start, then the edge's settle (or lease report) arrives and refunds the difference —
where a lease report used to be dropped ("reported for lease …, which is no longer open")."""

from __future__ import annotations

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


@pytest.fixture(scope="module", params=["sqlite-per_call", "sqlite-lease", "postgres-per_call", "postgres-lease"])
def ttl_stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, upstream: FakeUpstream
) -> Iterator[Stack]:
    """One stack per configuration for the module: each test kills its core and starts it again (and
    waits for every hold to resolve), with a customer of its own."""
    backend, path = request.param.split("-")
    env = {
        "RINGSIDE_HOLD_TTL_S": str(HOLD_TTL_S),
        "RINGSIDE_LEASES": str(path == "lease").lower(),
        "RINGSIDE_UPSTREAM_TIMEOUT_S": "60",
    }
    stack = Stack(backend, tmp_path_factory.mktemp(f"late-settle-{request.param}"), upstream, extra_env=env)
    yield stack.start()
    stack.destroy()


def cost_nano(usage: dict[str, int]) -> int:
    """gpt-4o-mini: $0.15 / $0.60 per million tokens; the account's markup is 0."""
    return -(-(usage["prompt_tokens"] * 150_000_000 + usage["completion_tokens"] * 600_000_000) // 1_000_000)


class HeldCall:
    """One slow call in a thread, held durably (a lease: reported admitted) before `held` returns."""

    def __init__(self, stack: Stack, prompt: str) -> None:
        self.stack = stack
        body = {"external_id": "late_" + secrets.token_hex(4)}
        self.customer_id = stack.call("POST", "/v1/customers", stack.live_key, body).json()["id"]
        self.call = {"model": MODEL, "max_tokens": 4, "messages": [{"role": "user", "content": prompt}]}
        self.answers: list[Response] = []
        self.caller = threading.Thread(target=self._run, daemon=True)
        self.caller.start()
        admitted = (
            "SELECT COUNT(*) FROM holds h WHERE h.customer_id = ? AND (h.kind = 'call' OR EXISTS "
            "(SELECT 1 FROM lease_admissions a WHERE a.lease_id = h.id))"
        )
        wait_until(lambda: stack.query(admitted, self.customer_id)[0][0] > 0, 10, "the call to be held")

    def _run(self) -> None:
        headers = {"FC-Customer": self.customer_id}
        answer = self.stack.call(
            "POST", "/v1/chat/completions", self.stack.live_key, self.call, headers=headers, timeout_s=90
        )
        self.answers.append(answer)

    def answer(self) -> Response:
        self.caller.join(timeout=60)
        (answer,) = self.answers
        assert answer.status == 200, answer.body[:300]
        return answer

    def corrected(self, answer: Response) -> None:
        """Its usage record says it was settled late, at its actual cost; the audit passes."""
        request_id = answer.headers["x-request-id"]

        def record() -> tuple[str, int] | None:
            rows = self.stack.query("SELECT status, posted_nano FROM usage_records WHERE request_id = ?", request_id)
            return (str(rows[0][0]), int(rows[0][1])) if rows and str(rows[0][0]).startswith("late_") else None

        actual = cost_nano(answer.json()["usage"])
        assert wait_until(record, 60, "the late settle to correct the expiry") == ("late_completed", actual)
        wait_until(lambda: self.stack.audit().open_holds == 0, 30, "every hold to be resolved")
        audit = self.stack.audit()
        assert audit.ok, audit


def test_a_settle_after_the_expiry_corrects_to_the_actual_amount(ttl_stack: Stack) -> None:
    stack = ttl_stack
    # 4 tokens 4 s apart: the answer comes ~16 s after the call starts, after the core is back.
    held = HeldCall(stack, "[[fake:slow=4000]]late")
    stack.kill_role("core")
    time.sleep(CORE_DOWN_S)  # the outage itself: the hold's TTL passes while the core is down
    stack.start_core()
    answer = held.answer()
    held.corrected(answer)
    customer_id = held.customer_id
    expired = stack.query("SELECT COUNT(*) FROM holds WHERE customer_id = ? AND state = 'expired'", customer_id)
    assert expired[0][0] == 1  # it did expire: the correction is what billed it right
    customer = stack.call("GET", f"/v1/customers/{customer_id}", stack.live_key).json()
    assert int(Decimal(str(customer["spend_usd_mtd"])).scaleb(9)) == cost_nano(answer.json()["usage"])
    assert customer["request_count_mtd"] == 1


def test_a_call_finishing_while_the_core_is_down_is_settled_when_it_is_back(ttl_stack: Stack) -> None:
    """The core is down when the call ends, for longer than the edge's quick settle retries (~10 s)
    and the TTL: the answer goes out, the edge keeps the settle (or the lease report) and retries it
    in the background; once the core is back it corrects the expiry to the actual amount."""
    stack = ttl_stack
    held = HeldCall(stack, "[[fake:slow=1000]]down")
    stack.kill_role("core")
    answer = held.answer()  # answered while the core is down
    time.sleep(12)  # the outage goes on past the edge's quick retries (~10 s) and the hold's TTL
    stack.start_core()
    held.corrected(answer)
