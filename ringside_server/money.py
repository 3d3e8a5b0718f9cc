"""Money arithmetic shared by the core and the edge: integers in nano-USD (1e-9 USD), prices
per one million tokens, cost rounded up.

API.md "Money": a call's cost is computed per request with integer arithmetic and rounded up to
the next nano-USD; `markup_pct` turns cost into billable (also rounded up). What a call may cost
before it runs (its estimate) is admission arithmetic: ringside_server/admission.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from ringside_server.record import record

TOKENS_PER_PRICE_UNIT = 1_000_000
# markup is kept in basis points of a percent-free ratio: 10_000 = +100 %.
MARKUP_SCALE = 10_000


def ceil_div(numerator: int, denominator: int) -> int:
    """⌈numerator / denominator⌉ for non-negative integers, without floats."""
    return -(-numerator // denominator)


@dataclass(frozen=True, slots=True)
class Price:
    """nano-USD per 1M tokens of each priced class."""

    input: int = 0
    cached_input: int = 0
    cache_write: int = 0
    output: int = 0
    reasoning: int = 0
    audio_input: int = 0
    audio_output: int = 0
    image_input: int = 0

    @property
    def max_input(self) -> int:
        """The highest price any prompt token can be billed at (the estimate's input rate)."""
        return max(self.input, self.cached_input, self.cache_write, self.audio_input, self.image_input)

    @property
    def max_output(self) -> int:
        """The highest price any completion token can be billed at."""
        return max(self.output, self.reasoning, self.audio_output)


@record  # one or more per call (the edge's parse, a settle's or a lease report's decode)
class Usage:
    """Token counts of one call per priced class (classes are disjoint)."""

    input_tokens: int = 0
    cached_input_tokens: int = 0
    cache_write_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    audio_input_tokens: int = 0
    audio_output_tokens: int = 0
    image_input_tokens: int = 0

    @property
    def prompt_tokens(self) -> int:
        return (
            self.input_tokens
            + self.cached_input_tokens
            + self.cache_write_tokens
            + self.audio_input_tokens
            + self.image_input_tokens
        )

    @property
    def completion_tokens(self) -> int:
        return self.output_tokens + self.reasoning_tokens + self.audio_output_tokens


def cost_nano(usage: Usage, price: Price) -> int:
    """Provider cost of `usage`, in nano-USD, rounded up once for the whole call."""
    scaled = (
        usage.input_tokens * price.input
        + usage.cached_input_tokens * price.cached_input
        + usage.cache_write_tokens * price.cache_write
        + usage.output_tokens * price.output
        + usage.reasoning_tokens * price.reasoning
        + usage.audio_input_tokens * price.audio_input
        + usage.audio_output_tokens * price.audio_output
        + usage.image_input_tokens * price.image_input
    )
    return ceil_div(scaled, TOKENS_PER_PRICE_UNIT)


def billable_nano(cost: int, markup_bp: int) -> int:
    """Cost with the markup (basis points; 2_500 = 25 %), rounded up."""
    return ceil_div(cost * (MARKUP_SCALE + markup_bp), MARKUP_SCALE)
