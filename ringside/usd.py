"""USD at the API boundary ↔ integer nano-USD inside (exact, never via binary floats)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

NANO_PER_USD = 1_000_000_000


def nano_to_usd(amount: int) -> Decimal:
    """Exact decimal USD of an amount in nano-USD (at most 9 decimals)."""
    return Decimal(amount).scaleb(-9)


def usd_to_nano(amount: object) -> int:
    """nano-USD of a USD amount given as a JSON number or a numeric string.

    Floats go through their shortest repr, so 0.1 means 0.1 USD, not the nearest binary value.
    Raises ValueError for anything else, non-finite values, or more than 9 decimals.
    """
    if isinstance(amount, bool) or not isinstance(amount, int | float | str | Decimal):
        raise ValueError("amount must be a number or a numeric string")
    try:
        value = (
            Decimal(repr(amount))
            if isinstance(amount, float)
            else Decimal(amount.strip() if isinstance(amount, str) else amount)
        )
    except InvalidOperation:
        raise ValueError(f"{amount!r} is not a number") from None
    if not value.is_finite():
        raise ValueError("amount must be a finite number")
    nano = value.scaleb(9)
    if nano != nano.to_integral_value():
        raise ValueError("amount has more than 9 decimals")
    return int(nano)
