"""A call whose upstream is silent for longer than the hold TTL keeps its hold (API.md "Holds,
expiry, late settles"): the edge extends every open call's hold, or its lease, whatever the bytes
do, so the call is billed its actual usage — not expired at its reserve, and (on the lease path)
not billed as the whole lease with its own report then dropped.

A 5 s TTL (the setting's minimum) and a fake upstream that is silent for 6 s: before the first byte
of a non-streamed answer, and between two frames of a stream."""

from __future__ import annotations

import json
import pathlib
import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest

from tests.harness import FakeUpstream, Response, Stack, wait_until

MODEL = "fc:openai/gpt-4o-mini"
HOLD_TTL_S = 5
SILENCE_MS = 6000  # the fake's interval per token: longer than the TTL
TOKENS = 2  # two tokens: 12 s of silence in all, more than two TTLs


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


def stream_usage(response: Response) -> dict[str, int]:
    assert response.body.endswith(b"data: [DONE]\n\n"), response.body[-300:]
    usage_frame = response.body.split(b"\n\n")[-3]
    usage: dict[str, int] = json.loads(usage_frame[len(b"data: ") :])["usage"]
    return usage


def test_a_silent_upstream_longer_than_the_ttl_is_billed_its_actual_usage(ttl_stack: Stack) -> None:
    stack = ttl_stack
    customer = stack.call("POST", "/v1/customers", stack.live_key, {"external_id": "slow_" + secrets.token_hex(4)})
    customer_id = customer.json()["id"]
    headers = {"FC-Customer": customer_id}
    prompt = f"[[fake:slow={SILENCE_MS}]]think for a long time"
    plain = {"model": MODEL, "max_tokens": TOKENS, "messages": [{"role": "user", "content": prompt}]}
    streamed = {**plain, "stream": True, "stream_options": {"include_usage": True}}

    def call(body: dict[str, object]) -> Response:
        return stack.call("POST", "/v1/chat/completions", stack.live_key, body, headers=headers, timeout_s=90)

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(call, [plain, streamed]))
    assert [answer.status for answer in answers] == [200, 200], [answer.body[:300] for answer in answers]
    usages = [answers[0].json()["usage"], stream_usage(answers[1])]
    expected = {answer.headers["x-request-id"]: cost_nano(usage) for answer, usage in zip(answers, usages, strict=True)}

    def recorded() -> list[tuple[str, str, int]]:
        rows = stack.query(
            "SELECT request_id, status, posted_nano FROM usage_records WHERE customer_id = ?", customer_id
        )
        return [(str(r[0]), str(r[1]), int(r[2])) for r in rows]

    wait_until(lambda: len(recorded()) >= 2 and stack.audit().open_holds == 0, 30, "both calls to be recorded")
    rows = recorded()
    assert sorted(rows) == sorted((request_id, "completed", cost) for request_id, cost in expected.items()), rows
    expired = stack.query("SELECT COUNT(*) FROM holds WHERE customer_id = ? AND state = 'expired'", customer_id)
    assert expired[0][0] == 0, "a hold expired while its call was still open"
    state = stack.call("GET", f"/v1/customers/{customer_id}", stack.live_key).json()
    assert int(Decimal(str(state["spend_usd_mtd"])).scaleb(9)) == sum(expected.values())
    assert state["request_count_mtd"] == 2
    audit = stack.audit()
    assert audit.ok, audit
