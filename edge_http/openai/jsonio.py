"""JSON in and out. Amounts in USD are rendered as exact decimal numbers (never via float)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import orjson

from ringside.errors import RingsideError

_MARK = "\u00a7DEC"
_MARKED = re.compile(rb'"\xc2\xa7DEC(-?[0-9.]+)"')


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return _MARK + format(value.normalize(), "f")
    raise TypeError(f"cannot serialize {type(value).__name__}")


def dumps(value: Any) -> bytes:
    out = orjson.dumps(value, default=_default)
    return _MARKED.sub(rb"\1", out) if b"\xc2\xa7DEC" in out else out


def parse_object(body: bytes) -> dict[str, Any]:
    """A JSON object from a request body, whatever its Content-Type (curl -d sends a form type)."""
    try:
        value = orjson.loads(body) if body else None
    except orjson.JSONDecodeError as error:
        raise RingsideError("invalid_request", f"The body is not valid JSON: {error}.") from None
    if not isinstance(value, dict):
        raise RingsideError("invalid_request", "The body must be a JSON object.")
    return value
