"""Estimates at the classes a request can incur (issue 14, item 3; API.md "Budgets"): the classes
read from a request's body, and that the estimate still bounds what a provider can bill for any
usage of those classes within the call's token bounds."""

from __future__ import annotations

import dataclasses
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ringside_server.admission import EVERY_CLASS, PriceClasses, estimate_nano, estimate_rates, max_affordable_output
from ringside_server.money import Price, Usage, billable_nano, cost_nano
from ringside_server.openai.price_classes import chat_classes, moderation_classes

PRICE_FIELDS = [field.name for field in dataclasses.fields(Price)]
prices = st.builds(Price, *(st.integers(min_value=0, max_value=200_000_000_000) for _ in PRICE_FIELDS))
classes = st.builds(PriceClasses, st.booleans(), st.booleans(), st.booleans())
GPT_4O = Price(input=2_500_000_000, cached_input=1_250_000_000, output=10_000_000_000)
GPT_4O_AUDIO = dataclasses.replace(GPT_4O, audio_input=40_000_000_000, audio_output=80_000_000_000)


def user(*parts: Any) -> dict[str, Any]:
    return {"messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": list(parts)}]}


def test_a_text_only_chat_incurs_text_classes_only() -> None:
    assert chat_classes({"messages": [{"role": "user", "content": "hi"}]}) == PriceClasses()
    assert chat_classes(user({"type": "text", "text": "hi"})) == PriceClasses()
    assert chat_classes({"messages": [{"role": "user", "content": "hi"}], "modalities": ["text"]}) == PriceClasses()


def test_images_audio_files_and_audio_answers_are_seen() -> None:
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}
    audio = {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}}
    assert chat_classes(user(image)) == PriceClasses(image_input=True)
    assert chat_classes(user(audio)) == PriceClasses(audio_input=True)
    # a file (or any part this code does not know as text) counts as every input class
    assert chat_classes(user({"type": "file", "file": {"file_id": "file-1"}})) == PriceClasses(True, True)
    assert chat_classes(user({"type": "something_new"})) == PriceClasses(True, True)
    # an earlier audio answer is billed as audio input
    earlier = {"messages": [{"role": "assistant", "audio": {"id": "audio_1"}}, {"role": "user", "content": "and?"}]}
    assert chat_classes(earlier) == PriceClasses(audio_input=True)
    asks_audio = {"messages": [{"role": "user", "content": "hi"}], "modalities": ["text", "audio"]}
    assert chat_classes(asks_audio) == PriceClasses(audio_output=True)
    voiced = {"messages": [{"role": "user", "content": "hi"}], "audio": {"voice": "alloy", "format": "wav"}}
    assert chat_classes(voiced) == PriceClasses(audio_output=True)


def test_moderation_images_are_seen() -> None:
    assert moderation_classes({"input": "text"}) == PriceClasses()
    assert moderation_classes({"input": ["a", "b"]}) == PriceClasses()
    image = {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}
    assert moderation_classes({"input": [{"type": "text", "text": "a"}, image]}) == PriceClasses(image_input=True)


def test_gpt_4o_text_is_estimated_at_text_rates_not_audio_rates() -> None:
    """The finding: $40/$80 per M instead of $2.50/$10 for a text-only call."""
    text = estimate_nano(1_000, 1_000, 1, estimate_rates(GPT_4O_AUDIO, PriceClasses()), 0)
    assert text == estimate_nano(1_000, 1_000, 1, GPT_4O, 0) == 2_500_000 + 10_000_000  # nano-USD: $0.0025 + $0.01
    everything = estimate_nano(1_000, 1_000, 1, estimate_rates(GPT_4O_AUDIO, EVERY_CLASS), 0)
    assert everything == 40_000_000 + 80_000_000
    # the room a text call needs for 1,000 output tokens buys it 1,000, not 1/8 of that
    room = text
    assert max_affordable_output(1_000, 1, estimate_rates(GPT_4O_AUDIO, PriceClasses()), 0, room, 16_384) == 1_000


def _usage_within(draw: st.DrawFn, request: PriceClasses, input_bound: int, output_bound: int) -> Usage:
    """Any split of at most the call's prompt and output bounds over the classes it can incur."""

    def split(total: int, names: list[str]) -> dict[str, int]:
        counts = {}
        for name in names:
            counts[name] = draw(st.integers(0, total))
            total -= counts[name]
        return counts

    inputs = ["input_tokens", "cached_input_tokens", "cache_write_tokens"]
    inputs += ["audio_input_tokens"] if request.audio_input else []
    inputs += ["image_input_tokens"] if request.image_input else []
    outputs = ["output_tokens", "reasoning_tokens"] + (["audio_output_tokens"] if request.audio_output else [])
    return Usage(**split(input_bound, inputs), **split(output_bound, outputs))


@given(
    price=prices,
    request=classes,
    input_bound=st.integers(0, 2_000_000),
    output_bound=st.integers(0, 200_000),
    choices=st.integers(1, 8),
    markup_bp=st.integers(0, 100_000),
    data=st.data(),
)
def test_the_estimate_bounds_what_the_provider_can_bill_for_the_requests_classes(
    price: Price,
    request: PriceClasses,
    input_bound: int,
    output_bound: int,
    choices: int,
    markup_bp: int,
    data: st.DataObject,
) -> None:
    usage = _usage_within(data.draw, request, input_bound, output_bound * choices)
    billed = billable_nano(cost_nano(usage, price), markup_bp)
    estimate = estimate_nano(input_bound, output_bound, choices, estimate_rates(price, request), markup_bp)
    assert billed <= estimate
    # and never more than the old estimate at every class: caps only get more room, never less safety
    assert estimate <= estimate_nano(input_bound, output_bound, choices, price, markup_bp)


CLASS_FIELDS = {"audio_input", "audio_output", "image_input"}


@given(prices, classes)
def test_estimate_rates_keep_every_rate_but_the_classes_not_incurred(price: Price, request: PriceClasses) -> None:
    # built field by field (not dataclasses.replace): a Price field added later must not drop to 0
    rates = estimate_rates(price, request)
    for name in PRICE_FIELDS:
        incurred = name not in CLASS_FIELDS or getattr(request, name)
        assert getattr(rates, name) == (getattr(price, name) if incurred else 0)
    assert estimate_rates(price, EVERY_CLASS) == price
