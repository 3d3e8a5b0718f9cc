"""USD at the API boundary ↔ integer nano-USD inside (exact, never via binary floats)."""

from __future__ import annotations

from decimal import Context, Decimal, InvalidOperation, localcontext

NANO_PER_USD = 1_000_000_000
MAX_AMOUNT_CHARS = 64
# A signed 64-bit count of nano-USD (about ±9.2e9 USD, past every bound API.md sets): what the core stores.
MIN_NANO, MAX_NANO = -(2**63), 2**63 - 1
# More digits than any accepted input has (≤ 64 characters), so no operation here ever rounds.
_EXACT = Context(prec=200)


def nano_to_usd(amount: int) -> Decimal:
    """Exact decimal USD of an amount in nano-USD (at most 9 decimals)."""
    with localcontext(_EXACT):
        return Decimal(amount).scaleb(-9)


def usd_to_nano(amount: object) -> int:
    """nano-USD of a USD amount given as a JSON number or a numeric string.

    Floats go through their shortest repr, so 0.1 means 0.1 USD, not the nearest binary value.
    Raises ValueError for anything else, non-finite values, more than 9 decimals, more than
    64 characters, or outside a signed 64-bit count of nano-USD.
    """
    if isinstance(amount, bool) or not isinstance(amount, int | float | str | Decimal):
        raise ValueError("amount must be a number or a numeric string")
    text = repr(amount) if isinstance(amount, float) else str(amount).strip()
    if len(text) > MAX_AMOUNT_CHARS:
        raise ValueError(f"amount must be at most {MAX_AMOUNT_CHARS} characters")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a number") from None
    if not value.is_finite():
        raise ValueError("amount must be a finite number")
    if value and value.adjusted() > 12:  # "1e999999999": refused before scaling it could overflow
        raise ValueError("amount is out of range")
    with localcontext(_EXACT):
        nano = value.scaleb(9)
    if nano != nano.to_integral_value():
        raise ValueError("amount has more than 9 decimals")
    if not MIN_NANO <= nano <= MAX_NANO:
        raise ValueError("amount is out of range")
    return int(nano)
