"""A slot's fallback list end to end: the first provider fails (503, overloaded with retry-after,
a timeout), the slot's next model answers; every attempt is its own authorized, settled call in
the ledger, and the customer pays only for the attempt that answered."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from decimal import Decimal

import openai
import pytest

from tests.e2e.test_chat_completions import new_customer, settled
from tests.harness import FakeProvider, FakeUpstream, Stack, wait_until

OPENAI = "fc:openai/gpt-4o-mini"
ANTHROPIC = "fc:anthropic/claude-haiku-4-5"


@pytest.fixture(scope="module")
def fstack(
    tmp_path_factory: pytest.TempPathFactory, upstream: FakeUpstream, anthropic: FakeProvider
) -> Iterator[Stack]:
    env = {"ANTHROPIC_API_KEY": anthropic.api_key, "ANTHROPIC_BASE_URL": anthropic.base_url}
    stack = Stack("sqlite", tmp_path_factory.mktemp("fallbacks"), upstream, extra_env=env).start()
    yield stack
    stack.destroy()


def slot(stack: Stack, *models: str) -> str:
    name = "s" + secrets.token_hex(4)
    created = stack.call("POST", "/v1/slots", stack.live_key, {"name": name, "models": list(models)})
    assert created.status == 201, created.body
    assert created.json()["models"] == list(models) and created.json()["model"] == models[0]
    return f"slot:{name}"


def attempts(stack: Stack, customer_id: str, count: int) -> list[tuple[str, str, int, int]]:
    """(model_ref, status, cost, posted) of the customer's `count` attempts, failed ones first (on
    the lease path they reach the core's ledger in batches, soon after they answer)."""

    def rows() -> list[tuple[str, str, int, int]]:
        found = stack.query(
            "SELECT model_ref, status, cost_nano, posted_nano FROM usage_records WHERE customer_id = ?",
            customer_id,
        )
        return sorted(((str(r[0]), str(r[1]), int(r[2]), int(r[3])) for r in found), key=lambda r: r[1] != "failed")

    return list(wait_until(lambda: len(found := rows()) >= count and found, 10, f"{count} attempts"))


def call(stack: Stack, model: str, text: str, customer_id: str, stream: bool = False) -> tuple[str, str]:
    sdk = openai.OpenAI(base_url=stack.base_url + "/v1", api_key=stack.live_key, max_retries=0)
    raw = sdk.chat.completions.with_raw_response.create(
        model=model,
        messages=[{"role": "user", "content": text}],
        extra_headers={"FC-Customer": customer_id},
        stream=stream,
    )
    if stream:
        content = "".join(c.choices[0].delta.content or "" for c in raw.parse() if c.choices)  # type: ignore[union-attr]
    else:
        content = raw.parse().choices[0].message.content or ""  # type: ignore[union-attr]
    return raw.headers["x-ringside-model-resolved"], content


def test_a_503_is_retried_once_then_the_next_model_answers_and_only_it_is_billed(fstack: Stack) -> None:
    customer = str(new_customer(fstack)["id"])
    resolved, content = call(fstack, slot(fstack, OPENAI, ANTHROPIC), "[[fake:status=503]] hello", customer)
    assert resolved == ANTHROPIC and content
    rows = attempts(fstack, customer, 3)
    after = settled(fstack, customer, 1)
    assert [(ref, status) for ref, status, _, _ in rows] == [
        (OPENAI, "failed"),
        (OPENAI, "failed"),
        (ANTHROPIC, "completed"),
    ]
    assert [cost for _, _, cost, _ in rows[:2]] == [0, 0]  # the provider answered nothing
    assert Decimal(str(after["spend_usd_mtd"])) == Decimal(rows[2][3]).scaleb(-9) > 0


def test_overloaded_with_retry_after_then_fallback_while_streaming(fstack: Stack) -> None:
    customer = str(new_customer(fstack)["id"])
    resolved, content = call(fstack, slot(fstack, ANTHROPIC, OPENAI), "[[anthropic:status=529]] hi", customer, True)
    assert resolved == OPENAI and content
    assert [(ref, status) for ref, status, _, _ in attempts(fstack, customer, 3)] == [
        (ANTHROPIC, "failed"),
        (ANTHROPIC, "failed"),
        (OPENAI, "completed"),
    ]


def test_a_timeout_moves_to_the_next_model_at_once(fstack: Stack) -> None:
    customer = str(new_customer(fstack)["id"])
    resolved, content = call(fstack, slot(fstack, OPENAI, ANTHROPIC), "[[fake:stall]] hi", customer)
    assert resolved == ANTHROPIC and content
    rows = attempts(fstack, customer, 2)
    assert [(ref, status, cost) for ref, status, cost, _ in rows] == [
        (OPENAI, "failed", 0),
        (ANTHROPIC, "completed", rows[1][2]),
    ]


def test_when_every_model_fails_the_last_answer_is_the_callers(fstack: Stack) -> None:
    customer = str(new_customer(fstack)["id"])
    with pytest.raises(openai.APIStatusError) as failure:
        call(fstack, slot(fstack, OPENAI, OPENAI.replace("gpt-4o-mini", "gpt-4.1")), "[[fake:status=500]] x", customer)
    assert failure.value.status_code == 502
    assert {status for _, status, _, _ in attempts(fstack, customer, 4)} == {"failed"}


def test_a_single_ref_is_not_retried(fstack: Stack) -> None:
    customer = str(new_customer(fstack)["id"])
    with pytest.raises(openai.APIStatusError):
        call(fstack, slot(fstack, OPENAI), "[[fake:status=503]] x", customer)
    assert len(attempts(fstack, customer, 1)) == 1


@pytest.fixture(scope="module")
def bstack(
    tmp_path_factory: pytest.TempPathFactory, upstream: FakeUpstream, anthropic: FakeProvider
) -> Iterator[Stack]:
    """A stack whose breaker opens after 2 failures in a row (and stays open for the test)."""
    env = {"ANTHROPIC_API_KEY": anthropic.api_key, "ANTHROPIC_BASE_URL": anthropic.base_url}
    env.update({"RINGSIDE_BREAKER_FAILURES": "2", "RINGSIDE_BREAKER_COOLDOWN_S": "600"})
    stack = Stack("sqlite", tmp_path_factory.mktemp("breaker"), upstream, extra_env=env).start()
    yield stack
    stack.destroy()


def test_an_open_breaker_sends_a_slots_calls_straight_to_the_next_model(bstack: Stack) -> None:
    failing = slot(bstack, OPENAI, ANTHROPIC)
    first = str(new_customer(bstack)["id"])
    assert call(bstack, failing, "[[fake:status=503]] one", first)[0] == ANTHROPIC
    assert len(attempts(bstack, first, 3)) == 3  # openai twice: its breaker is now open
    second = str(new_customer(bstack)["id"])
    assert call(bstack, failing, "[[fake:status=503]] two", second)[0] == ANTHROPIC
    assert [ref for ref, _, _, _ in attempts(bstack, second, 1)] == [ANTHROPIC]
    # a single ref is still called: an open breaker never turns a call away by itself
    with pytest.raises(openai.APIStatusError) as failure:
        call(bstack, slot(bstack, OPENAI), "[[fake:status=503]] three", second)
    assert failure.value.status_code == 503


def test_weights_spread_a_slots_first_model_and_zero_means_fallback_only(fstack: Stack) -> None:
    sdk = openai.OpenAI(base_url=fstack.base_url + "/v1", api_key=fstack.test_key, max_retries=0)
    name = "w" + secrets.token_hex(4)
    body = {"name": name, "models": [OPENAI, ANTHROPIC], "weights": [0, 1]}
    created = fstack.call("POST", "/v1/slots", fstack.test_key, body)
    assert created.status == 201 and created.json()["weights"] == [0, 1], created.body

    def first_model(slot_ref: str) -> str:
        raw = sdk.chat.completions.with_raw_response.create(
            model=slot_ref, messages=[{"role": "user", "content": "hi"}]
        )
        return str(raw.headers["x-ringside-model-resolved"])

    assert {first_model(f"slot:{name}") for _ in range(5)} == {ANTHROPIC}
    even = "e" + secrets.token_hex(4)
    body = {"name": even, "models": [OPENAI, ANTHROPIC], "weights": [1, 1]}
    assert fstack.call("POST", "/v1/slots", fstack.test_key, body).status == 201
    assert {first_model(f"slot:{even}") for _ in range(40)} == {OPENAI, ANTHROPIC}  # 2 × 0.5^40 to fail
    for bad in ([1], [0, 0], [1, -1], [1, True]):
        refused = fstack.call(
            "POST", "/v1/slots", fstack.test_key, {"name": "x", "models": [OPENAI, ANTHROPIC], "weights": bad}
        )
        assert refused.status == 400 and refused.json()["error"]["param"] == "weights"
