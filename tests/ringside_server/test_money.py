"""ringside_server/money.py and the estimate in ringside_server/admission.py: integer nano-USD, one rounding up
per call (API.md "Money", "Budgets")."""

from __future__ import annotations

import dataclasses
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ringside_server.admission import estimate_nano, max_affordable_output
from ringside_server.money import (
    MARKUP_SCALE,
    TOKENS_PER_PRICE_UNIT,
    Price,
    Usage,
    billable_nano,
    cost_nano,
)

FAST = settings(max_examples=200, deadline=None)

PRICE_CLASSES = [field.name for field in dataclasses.fields(Price)]
# Usage field of each price class, in the same order.
USAGE_CLASSES = [field.name for field in dataclasses.fields(Usage)]

nano_per_mtok = st.integers(min_value=0, max_value=200_000_000_000)  # up to 200 USD / 1M tokens
prices = st.builds(Price, *(nano_per_mtok for _ in PRICE_CLASSES))
markups = st.integers(min_value=0, max_value=50_000)  # 0 .. +500 %
tokens = st.integers(min_value=0, max_value=2_000_000)


def test_cost_of_one_token_is_exact_when_the_price_divides() -> None:
    assert cost_nano(Usage(input_tokens=1), Price(input=150_000_000)) == 150


def test_cost_of_one_token_at_the_smallest_price_rounds_up_to_one_nano() -> None:
    assert cost_nano(Usage(output_tokens=1), Price(output=1)) == 1


def test_cost_of_no_tokens_is_zero() -> None:
    assert cost_nano(Usage(), Price(input=150_000_000, output=600_000_000)) == 0


def test_cost_rounds_once_per_call_not_once_per_class() -> None:
    # Two classes of 1e-6 nano each: one rounding gives 1 nano, one per class would give 2.
    assert cost_nano(Usage(input_tokens=1, output_tokens=1), Price(input=1, output=1)) == 1


def test_cost_of_a_million_tokens_is_the_price() -> None:
    assert cost_nano(Usage(input_tokens=1_000_000, output_tokens=2_000_000), Price(input=150, output=600)) == 1_350


@pytest.mark.parametrize(("usage_field", "price_field"), list(zip(USAGE_CLASSES, PRICE_CLASSES, strict=True)))
def test_each_token_class_is_billed_at_its_own_price(usage_field: str, price_field: str) -> None:
    distinct = Price(**{name: 1_000 * (position + 1) for position, name in enumerate(PRICE_CLASSES)})
    usage = Usage(**{usage_field: TOKENS_PER_PRICE_UNIT})
    assert cost_nano(usage, distinct) == getattr(distinct, price_field)


@FAST
@given(usage=st.builds(Usage, *(tokens for _ in USAGE_CLASSES)), price=prices)
def test_cost_is_the_exact_amount_rounded_up(usage: Usage, price: Price) -> None:
    exact_scaled = sum(getattr(usage, u) * getattr(price, p) for u, p in zip(USAGE_CLASSES, PRICE_CLASSES, strict=True))
    cost = cost_nano(usage, price)
    assert cost * TOKENS_PER_PRICE_UNIT >= exact_scaled
    assert (cost - 1) * TOKENS_PER_PRICE_UNIT < exact_scaled or cost == 0


@pytest.mark.parametrize(
    ("cost", "markup_bp", "billable"),
    [(100, 0, 100), (100, 2_500, 125), (1, 2_500, 2), (3, 2_500, 4), (7, 10_000, 14), (0, 2_500, 0)],
)
def test_billable_applies_the_markup_rounded_up(cost: int, markup_bp: int, billable: int) -> None:
    assert billable_nano(cost, markup_bp) == billable


@FAST
@given(cost=st.integers(min_value=0, max_value=10**15), markup_bp=markups)
def test_billable_is_the_marked_up_cost_rounded_up(cost: int, markup_bp: int) -> None:
    billable = billable_nano(cost, markup_bp)
    assert billable >= cost
    assert billable * MARKUP_SCALE >= cost * (MARKUP_SCALE + markup_bp)
    assert (billable - 1) * MARKUP_SCALE < cost * (MARKUP_SCALE + markup_bp) or billable == 0


def test_estimate_prices_prompt_tokens_at_the_highest_input_class() -> None:
    price = Price(input=100, cached_input=50, cache_write=500, audio_input=300, image_input=200, output=1)
    assert estimate_nano(1_000_000, 0, 1, price, 0) == 500


def test_estimate_prices_output_tokens_at_the_highest_output_class() -> None:
    price = Price(input=1, output=10, reasoning=40, audio_output=30)
    assert estimate_nano(0, 1_000_000, 1, price, 0) == 40


def test_estimate_multiplies_output_not_input_by_choices() -> None:
    price = Price(input=1_000, output=10_000)
    assert estimate_nano(1_000_000, 1_000_000, 3, price, 0) == 1_000 + 3 * 10_000


def test_estimate_includes_the_markup() -> None:
    price = Price(input=150_000_000, output=600_000_000)
    # 1000 in + 100 out = 150_000 + 60_000 nano, +25 % = 262_500.
    assert estimate_nano(1_000, 100, 1, price, 2_500) == 262_500


def _split(draw: st.DrawFn, total: int, parts: int) -> list[int]:
    """`total` cut into `parts` non-negative integers."""
    cuts = sorted(draw(st.lists(st.integers(min_value=0, max_value=total), min_size=parts - 1, max_size=parts - 1)))
    edges = [0, *cuts, total]
    return [high - low for low, high in itertools.pairwise(edges)]


@st.composite
def calls_within_bounds(draw: st.DrawFn) -> tuple[int, int, int, Usage]:
    """An estimate's bounds and an actual usage that respects them, split over token classes."""
    input_bound = draw(tokens)
    output_bound = draw(st.integers(min_value=0, max_value=200_000))
    choices = draw(st.integers(min_value=1, max_value=8))
    prompt = _split(draw, draw(st.integers(min_value=0, max_value=input_bound)), 5)
    completion = _split(draw, draw(st.integers(min_value=0, max_value=output_bound * choices)), 3)
    usage = Usage(
        input_tokens=prompt[0],
        cached_input_tokens=prompt[1],
        cache_write_tokens=prompt[2],
        audio_input_tokens=prompt[3],
        image_input_tokens=prompt[4],
        output_tokens=completion[0],
        reasoning_tokens=completion[1],
        audio_output_tokens=completion[2],
    )
    return input_bound, output_bound, choices, usage


@FAST
@given(call=calls_within_bounds(), price=prices, markup_bp=markups)
def test_estimate_bounds_the_billable_of_any_usage_within_the_call_bounds(
    call: tuple[int, int, int, Usage], price: Price, markup_bp: int
) -> None:
    input_bound, output_bound, choices, usage = call
    assert usage.prompt_tokens <= input_bound
    assert usage.completion_tokens <= output_bound * choices
    actual = billable_nano(cost_nano(usage, price), markup_bp)
    assert actual <= estimate_nano(input_bound, output_bound, choices, price, markup_bp)


# -- max_affordable_output -------------------------------------------------------------------------


def _assert_largest_fitting(
    input_tokens: int, choices: int, price: Price, markup_bp: int, room: int, ceiling: int
) -> int:
    k = max_affordable_output(input_tokens, choices, price, markup_bp, room, ceiling)
    assert 0 <= k <= ceiling
    if k > 0:
        assert estimate_nano(input_tokens, k, choices, price, markup_bp) <= room
    if k < ceiling:
        # k is the largest: one more output token would not fit.
        assert estimate_nano(input_tokens, k + 1, choices, price, markup_bp) > room
    return k


@FAST
@given(
    input_tokens=tokens,
    choices=st.integers(min_value=1, max_value=8),
    price=prices,
    markup_bp=markups,
    room=st.integers(min_value=0, max_value=10**13),
    ceiling=st.integers(min_value=0, max_value=200_000),
)
def test_max_affordable_output_is_the_largest_bound_that_fits_any_room(
    input_tokens: int, choices: int, price: Price, markup_bp: int, room: int, ceiling: int
) -> None:
    _assert_largest_fitting(input_tokens, choices, price, markup_bp, room, ceiling)


@FAST
@given(
    input_tokens=tokens,
    choices=st.integers(min_value=1, max_value=8),
    price=prices,
    markup_bp=markups,
    target=st.integers(min_value=0, max_value=200_000),
    slack=st.integers(min_value=-3, max_value=3),
    ceiling=st.integers(min_value=0, max_value=200_000),
)
def test_max_affordable_output_at_rooms_next_to_an_estimate(
    input_tokens: int, choices: int, price: Price, markup_bp: int, target: int, slack: int, ceiling: int
) -> None:
    # Rooms just around the estimate of some bound exercise the roundings (markup, per-Mtok).
    room = max(0, estimate_nano(input_tokens, target, choices, price, markup_bp) + slack)
    k = _assert_largest_fitting(input_tokens, choices, price, markup_bp, room, ceiling)
    if slack >= 0:
        assert k >= min(target, ceiling)


@FAST
@given(
    input_tokens=tokens,
    choices=st.integers(min_value=1, max_value=8),
    price=prices.filter(lambda p: p.max_output > 0),
    markup_bp=markups,
    ceiling=st.integers(min_value=1, max_value=200_000),
)
def test_max_affordable_output_is_zero_when_one_token_does_not_fit(
    input_tokens: int, choices: int, price: Price, markup_bp: int, ceiling: int
) -> None:
    room = estimate_nano(input_tokens, 1, choices, price, markup_bp) - 1
    assert max_affordable_output(input_tokens, choices, price, markup_bp, room, ceiling) == 0


def test_max_affordable_output_known_values() -> None:
    price = Price(input=150_000_000, output=600_000_000)  # gpt-4o-mini
    # 1000 prompt tokens = 150_000 nano; each output token = 600 nano.
    assert max_affordable_output(1_000, 1, price, 0, 150_000 + 600 * 50, 1_000) == 50
    assert max_affordable_output(1_000, 1, price, 0, 150_000 + 600 * 50 - 1, 1_000) == 49
    assert max_affordable_output(1_000, 2, price, 0, 150_000 + 600 * 50, 1_000) == 25
    assert max_affordable_output(1_000, 1, price, 0, 10**12, 1_000) == 1_000
    assert max_affordable_output(1_000, 1, price, 0, 150_000, 1_000) == 0


def test_max_affordable_output_of_a_free_output_model_depends_only_on_the_input() -> None:
    price = Price(input=1_000_000, output=0)
    assert max_affordable_output(1_000_000, 1, price, 0, 1_000_000, 4_096) == 4_096
    assert max_affordable_output(1_000_000, 1, price, 0, 999_999, 4_096) == 0
