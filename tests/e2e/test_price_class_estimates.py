"""A call near its customer's cap gets the output the prices of its own classes allow (issue 14,
item 3): gpt-4o's text calls were estimated at its audio rates ($40/$80 per M instead of
$2.50/$10), so near a cap they were cut to an eighth of the tokens they could pay for."""

from __future__ import annotations

import secrets
from typing import Any

import openai

from ringside_server.money import TOKENS_PER_PRICE_UNIT
from ringside_server.openai.estimate import input_tokens_bound
from tests.harness import FakeUpstream, Stack

BUDGET_NANO = 10_000_000
# gpt-4o's catalog prices, nano-USD per 1M tokens (ringside_server/providers/catalog/openai.yaml)
TEXT_INPUT, TEXT_OUTPUT, AUDIO_OUTPUT = 2_500_000_000, 10_000_000_000, 80_000_000_000
MAX_IMAGE_TOKENS = 1445


def largest_output(input_bound: int, input_rate: int, output_rate: int) -> int:
    """The largest k with ⌈(input·input_rate + k·output_rate) / 1M⌉ ≤ the budget (markup 0)."""
    return (BUDGET_NANO * TOKENS_PER_PRICE_UNIT - input_bound * input_rate) // output_rate


def sent_output_bound(upstream: FakeUpstream) -> int:
    body = upstream.requests()[-1]["body"]
    return int(body.get("max_completion_tokens") or body["max_tokens"])


def capped_customer(stack: Stack, key: str) -> str:
    created = stack.call(
        "POST", "/v1/customers", key, {"external_id": "pc_" + secrets.token_hex(5), "budget_usd": 0.01}
    )
    assert created.status == 201, created.body
    return str(created.json()["id"])


def test_a_text_call_near_a_cap_gets_the_max_tokens_text_prices_allow(stack: Stack, upstream: FakeUpstream) -> None:
    key = stack.new_account()["live"]
    body: dict[str, Any] = {"messages": [{"role": "user", "content": "Summarise the plot of Hamlet."}]}
    bound = input_tokens_bound(body, MAX_IMAGE_TOKENS)
    text_allows = largest_output(bound, TEXT_INPUT, TEXT_OUTPUT)
    assert 16_384 > text_allows > 8 * largest_output(bound, TEXT_INPUT, AUDIO_OUTPUT)  # the case the finding is about

    ai = openai.OpenAI(base_url=stack.base_url + "/v1", api_key=key, max_retries=0)
    customer = capped_customer(stack, key)
    answer = ai.chat.completions.create(
        model="fc:openai/gpt-4o", max_tokens=16_000, extra_headers={"FC-Customer": customer}, **body
    )
    assert answer.choices[0].message.content
    assert sent_output_bound(upstream) == text_allows

    # asking for audio output is estimated at the audio output rate: fewer tokens fit
    voiced = capped_customer(stack, key)
    ai.chat.completions.create(
        model="fc:openai/gpt-4o",
        max_tokens=16_000,
        modalities=["text", "audio"],
        audio={"voice": "alloy", "format": "wav"},
        extra_headers={"FC-Customer": voiced},
        **body,
    )
    assert sent_output_bound(upstream) == largest_output(bound, TEXT_INPUT, AUDIO_OUTPUT)
