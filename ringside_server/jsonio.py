"""JSON in and out: request bodies read as JSON objects (a Ringside route's refuses NUL), and JSON out
with USD amounts as exact decimal numbers (never via binary floats)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson

from ringside_server.errors import RingsideError


def _default(value: Any) -> Any:
    # A Fragment is written as-is, so the decimal's exact digits become a JSON number without any
    # marker in the data: a user's string that looks like one can never be mistaken for it.
    if isinstance(value, Decimal) and value.is_finite():
        return orjson.Fragment(format(value.normalize(), "f"))
    raise TypeError(f"cannot serialize {type(value).__name__}")


def dumps(value: Any) -> bytes:
    """`value` as compact JSON; a `Decimal` becomes a JSON number with exactly its digits."""
    return orjson.dumps(value, default=_default)


def parse_model_body(body: bytes) -> dict[str, Any]:
    """A model request's JSON object: relayed as sent, so any JSON string (a NUL included) stays."""
    try:
        value = orjson.loads(body) if body else None
    except orjson.JSONDecodeError as error:
        raise RingsideError("invalid_request", f"The body is not valid JSON: {error}.") from None
    if not isinstance(value, dict):
        raise RingsideError("invalid_request", "The body must be a JSON object.")
    return value


def parse_object(body: bytes) -> dict[str, Any]:
    """A JSON object from a Ringside route's body, whatever its Content-Type (curl -d sends a form
    type). Ringside stores these fields as text and PostgreSQL cannot store U+0000, so a NUL
    anywhere is a 400 (API.md "Bodies")."""
    value = parse_model_body(body)
    for name, field in value.items():  # the field that holds it is named, as every 400 names its param
        if _holds_nul(name) or _holds_nul(field):
            raise RingsideError(
                "invalid_request", "A text field holds a NUL character (U+0000).", name.replace("\x00", "")[:100]
            )
    return value


def _holds_nul(value: object) -> bool:
    """Whether any key or string in `value` holds U+0000 (iterative: orjson nests 1024 deep, past
    Python's recursion limit)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False
