"""JSON out with USD amounts as exact decimal numbers (never via binary floats)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson


def _default(value: Any) -> Any:
    # A Fragment is written as-is, so the decimal's exact digits become a JSON number without any
    # marker in the data: a user's string that looks like one can never be mistaken for it.
    if isinstance(value, Decimal) and value.is_finite():
        return orjson.Fragment(format(value.normalize(), "f"))
    raise TypeError(f"cannot serialize {type(value).__name__}")


def dumps(value: Any) -> bytes:
    """`value` as compact JSON; a `Decimal` becomes a JSON number with exactly its digits."""
    return orjson.dumps(value, default=_default)
