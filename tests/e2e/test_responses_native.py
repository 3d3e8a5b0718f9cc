"""`POST /v1/responses` relayed to OpenAI, which serves it natively (responses_native.py): priced
from OpenAI's own usage, every token class of it, and its refusals answered in the envelope."""

from __future__ import annotations

import secrets
from decimal import Decimal

import openai
import pytest

from tests.e2e.test_chat_completions import settled
from tests.e2e.test_responses import client, new_customer, sent_with
from tests.harness import Stack

MODEL = "fc:openai/gpt-5-mini"
# gpt-5-mini's catalog prices, nano-USD per 1M tokens (openai.yaml)
PRICES = {"input": 250_000_000, "cached": 25_000_000, "output": 2_000_000_000, "reasoning": 2_000_000_000}


def _cost_nano(usage: openai.types.responses.ResponseUsage) -> int:
    cached = usage.input_tokens_details.cached_tokens
    reasoning = usage.output_tokens_details.reasoning_tokens
    total = (
        (usage.input_tokens - cached) * PRICES["input"]
        + cached * PRICES["cached"]
        + (usage.output_tokens - reasoning) * PRICES["output"]
        + reasoning * PRICES["reasoning"]
    )
    return -(-total // 1_000_000)


def test_cached_and_reasoning_tokens_are_priced_from_openais_usage(stack: Stack) -> None:
    customer = new_customer(stack)
    api = client(stack, customer=customer)
    marker = "Think " + secrets.token_hex(4)
    first = api.responses.create(model=MODEL, input=marker, reasoning={"effort": "low"})
    assert [item.type for item in first.output] == ["reasoning", "message"]
    second = api.responses.create(
        model=MODEL, input="Once more", previous_response_id=first.id, reasoning={"effort": "low"}
    )
    assert first.usage is not None and second.usage is not None
    assert first.usage.output_tokens_details.reasoning_tokens > 0
    assert second.usage.input_tokens_details.cached_tokens > 0  # the chain was cached upstream
    _, to_second = sent_with(stack, marker)
    assert [item.get("type") for item in to_second["input"]] == ["message", None, "message"]  # type: ignore[union-attr]
    after = settled(stack, customer, 2)
    assert Decimal(str(after["spend_usd_mtd"])) == Decimal(_cost_nano(first.usage) + _cost_nano(second.usage)).scaleb(
        -9
    )


def test_openais_refusal_is_answered_in_the_envelope_and_billed_nothing(stack: Stack) -> None:
    customer = new_customer(stack)
    with pytest.raises(openai.RateLimitError) as refused:
        client(stack, customer=customer).responses.create(model=MODEL, input="[[fake:status=429]] hi")
    assert refused.value.code == "rate_limit_exceeded"  # OpenAI's own code, kept
    assert refused.value.response.headers["x-request-id"].startswith("req_")
    assert Decimal(str(_customer_now(stack, customer)["spend_usd_mtd"])) == 0


def _customer_now(stack: Stack, customer: str) -> dict[str, object]:
    response = stack.call("GET", f"/v1/customers/{customer}", stack.live_key)
    assert response.status == 200, response.body
    return dict(response.json())


def test_a_test_key_is_answered_by_the_test_model_never_relayed(stack: Stack) -> None:
    marker = "Offline " + secrets.token_hex(4)
    response = client(stack, key=stack.test_key).responses.create(model=MODEL, input=marker)
    assert response.status == "completed" and response.output_text
    assert sent_with(stack, marker) == []
