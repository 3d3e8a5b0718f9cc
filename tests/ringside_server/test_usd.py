"""ringside_server/usd.py: USD at the API boundary ↔ integer nano-USD, exact (API.md "Money")."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ringside_server.usd import nano_to_usd, usd_to_nano

FAST = settings(max_examples=200, deadline=None)


@pytest.mark.parametrize(
    ("amount", "nano"),
    [
        (0, 0),
        (25, 25_000_000_000),
        (-3, -3_000_000_000),
        (0.1, 100_000_000),
        (0.3, 300_000_000),
        (1e-9, 1),
        (19.99, 19_990_000_000),
        (1_000_000_000.0, 1_000_000_000_000_000_000),
        ("0", 0),
        (" 25.5 ", 25_500_000_000),
        ("0.000000001", 1),
        ("-0.5", -500_000_000),
        ("1e3", 1_000_000_000_000),
        (Decimal("12.345678901"), 12_345_678_901),
    ],
)
def test_usd_to_nano_accepts_numbers_and_numeric_strings(amount: object, nano: int) -> None:
    assert usd_to_nano(amount) == nano


@pytest.mark.parametrize(
    "amount",
    [True, False, None, "abc", "", "1,5", [], {}, math.nan, math.inf, -math.inf, "NaN", "Infinity", "-inf"],
)
def test_usd_to_nano_rejects_what_is_not_a_finite_number(amount: object) -> None:
    with pytest.raises(ValueError):
        usd_to_nano(amount)


@pytest.mark.parametrize("amount", ["0.0000000001", "1.1234567891", 1e-10, 0.1234567891, Decimal("0.0000000005")])
def test_usd_to_nano_rejects_more_than_nine_decimals(amount: object) -> None:
    with pytest.raises(ValueError, match="9 decimals"):
        usd_to_nano(amount)


def test_usd_to_nano_accepts_trailing_zeros_beyond_nine_decimals() -> None:
    assert usd_to_nano("1.5000000000000") == 1_500_000_000


def test_usd_to_nano_rejects_a_tiny_fraction_behind_many_digits() -> None:
    with pytest.raises(ValueError):
        usd_to_nano("1.0000000000000000000000000001")


@pytest.mark.parametrize(
    ("nano", "usd"),
    [
        (0, "0"),
        (1, "0.000000001"),
        (100_000_000, "0.1"),
        (25_500_000_000, "25.5"),
        (-1, "-0.000000001"),
        (9_223_372_036_854_775_807, "9223372036.854775807"),  # the int64 ledger's largest amount
    ],
)
def test_nano_to_usd_is_exact(nano: int, usd: str) -> None:
    assert nano_to_usd(nano) == Decimal(usd)


nano_amounts = st.integers(min_value=-(2**63), max_value=2**63 - 1)


@FAST
@given(nano=nano_amounts)
def test_round_trip_through_usd_keeps_every_nano(nano: int) -> None:
    usd = nano_to_usd(nano)
    assert usd_to_nano(usd) == nano
    assert usd_to_nano(str(usd)) == nano
    assert usd_to_nano(format(usd, "f")) == nano


@FAST
@given(cents=st.integers(min_value=0, max_value=10**11))
def test_float_amounts_mean_their_decimal_text(cents: int) -> None:
    # 0.1 is a float that is not 0.1 in binary; the API still means ten cents.
    amount = cents / 100
    assert usd_to_nano(amount) == usd_to_nano(repr(amount))
    assert usd_to_nano(amount) == cents * 10_000_000


@pytest.mark.parametrize(
    "amount",
    ["1e999999999", "-1e999999999", 1e300, "9223372036.854775808", "-9223372036.854775809", "sNaN", "-sNaN", "nan"],
)
def test_usd_to_nano_refuses_what_a_64_bit_count_cannot_hold_without_overflowing(amount: object) -> None:
    """Huge exponents were a decimal.Overflow (a 500) before; now a ValueError the edge makes a 400."""
    with pytest.raises(ValueError):
        usd_to_nano(amount)


@FAST
@given(
    text=st.text(max_size=80) | st.from_regex(r"-?[0-9]{0,30}(\.[0-9]{0,30})?([eE][-+]?[0-9]{1,12})?", fullmatch=True)
)
def test_usd_to_nano_answers_any_text_with_a_count_or_a_value_error(text: str) -> None:
    try:
        nano = usd_to_nano(text)
    except ValueError:
        return
    assert -(2**63) <= nano < 2**63
    assert usd_to_nano(nano_to_usd(nano)) == nano
