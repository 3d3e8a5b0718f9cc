"""Admission arithmetic: how much one call may produce, count and cost before it runs, and how
much of what it did cost is posted. Pure functions, no I/O.

One place for both paths that admit calls: the core (per-call Authorize and the leases it grants)
and the edge's lease path (the tickets it hands out against a lease). Were they to compute a bound
differently, a call admitted under a lease could cost more than the core reserved for it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ringside_server.money import MARKUP_SCALE, TOKENS_PER_PRICE_UNIT, Price, billable_nano, ceil_div


@dataclass(frozen=True, slots=True)
class PriceClasses:
    """The priced classes beyond text a request can incur (API.md "Budgets": the estimate prices
    the classes the request can incur). Text input, cached input, cache writes, text output and
    reasoning are always possible, so they are always priced."""

    audio_input: bool = False
    image_input: bool = False
    audio_output: bool = False


EVERY_CLASS = PriceClasses(audio_input=True, image_input=True, audio_output=True)

# A lease covers at most this many calls like the one asking (the core grants no more). With the
# core's room share (a lease never holds more than 1/4 of what a cap or rate limit has left) it bounds
# what a live lease holds; a dead edge's lease posts only the calls reported admitted, releasing the
# rest. An edge asks for as many as its caller's pace fills in a window (leases.py: a slow caller's
# lease holds few, a busy one's up to this): fewer grants and closes per call at high rates.
MAX_LEASE_CALLS = 64


def estimate_rates(price: Price, classes: PriceClasses) -> Price:
    """The model's price with the classes this request cannot incur left out: what its estimate is
    priced at. Still an upper bound of what the provider can bill for the request, since a class
    left out is one no token of this request can be billed in (a text-only prompt never yields
    audio tokens). The hold keeps the full price: the settle prices what actually happened."""
    # Built directly: dataclasses.replace (its field introspection) was ~4x the cost, once per call on
    # the edge's lease path and per Authorize in the core (docs/performance.md).
    return Price(
        input=price.input,
        cached_input=price.cached_input,
        cache_write=price.cache_write,
        output=price.output,
        reasoning=price.reasoning,
        audio_input=price.audio_input if classes.audio_input else 0,
        audio_output=price.audio_output if classes.audio_output else 0,
        image_input=price.image_input if classes.image_input else 0,
    )


def output_ceiling(requested_output_tokens: int, default_max_output_tokens: int | None, model_max_tokens: int) -> int:
    """The most output tokens a call may produce: `max_tokens` as sent, else the account's default,
    else the model's maximum — never above the model's maximum when it is known (0 = unknown)."""
    ceiling = requested_output_tokens or default_max_output_tokens or model_max_tokens
    return min(ceiling, model_max_tokens) if model_max_tokens else ceiling


def tokens_bound(input_tokens_bound: int, choices: int, output_tokens: int) -> int:
    """What a call counts against a tokens-per-minute limit until settled: its prompt bound and
    every output token each of its choices may produce."""
    return input_tokens_bound + max(1, choices) * output_tokens


def estimate_nano(input_tokens: int, output_tokens: int, choices: int, price: Price, markup_bp: int) -> int:
    """Billable upper bound of a call: every prompt token at the highest input-class price, every
    possible output token at the highest output-class price, `choices` completions. `price` is the
    rates the request can incur (estimate_rates), or the model's whole price."""
    scaled = input_tokens * price.max_input + choices * output_tokens * price.max_output
    return billable_nano(ceil_div(scaled, TOKENS_PER_PRICE_UNIT), markup_bp)


def max_affordable_output(
    input_tokens: int, choices: int, price: Price, markup_bp: int, room_nano: int, ceiling: int
) -> int:
    """The largest output bound k ≤ ceiling whose estimate fits in `room_nano` (0 when none does)."""
    if price.max_output == 0:
        return ceiling if estimate_nano(input_tokens, 0, choices, price, markup_bp) <= room_nano else 0
    # Invert the estimate, then step down past the roundings (at most a few steps).
    cost_room = room_nano * MARKUP_SCALE // (MARKUP_SCALE + markup_bp)
    scaled_room = cost_room * TOKENS_PER_PRICE_UNIT - input_tokens * price.max_input
    k = min(ceiling, max(0, scaled_room // (choices * price.max_output)))
    while k > 0 and estimate_nano(input_tokens, k, choices, price, markup_bp) > room_nano:
        k -= 1
    return k


@dataclass(frozen=True, slots=True)
class CallBound:
    """One call admitted at its output ceiling: what it may produce, count and cost."""

    output_tokens: int
    tokens: int
    estimate_nano: int


def call_bound(
    input_tokens_bound: int,
    choices: int,
    requested_output_tokens: int,
    default_max_output_tokens: int | None,
    model_max_tokens: int,
    price: Price,
    markup_bp: int,
) -> CallBound:
    """The bound of one call at its output ceiling: what a lease reserves per call, and what a
    ticket taken from a lease on the edge may use."""
    ceiling = output_ceiling(requested_output_tokens, default_max_output_tokens, model_max_tokens)
    return CallBound(
        ceiling,
        tokens_bound(input_tokens_bound, choices, ceiling),
        estimate_nano(input_tokens_bound, ceiling, max(1, choices), price, markup_bp),
    )


def posted_nano(billable: int, reserved_nano: int, left_nano: int | None = None) -> int:
    """What a finished call posts: its billable amount, never more than was reserved for it (the
    hold, or the ticket's estimate) nor than its lease has left: the rest is never charged."""
    posted = min(billable, reserved_nano)
    return posted if left_nano is None else min(posted, left_nano)
