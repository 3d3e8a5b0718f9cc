"""JSON in and out. Amounts in USD are rendered as exact decimal numbers (never via float)."""

from __future__ import annotations

from typing import Any

import orjson

from ringside_server.errors import RingsideError
from ringside_server.jsonio import dumps

__all__ = ["dumps", "parse_object"]


def parse_object(body: bytes) -> dict[str, Any]:
    """A JSON object from a request body, whatever its Content-Type (curl -d sends a form type)."""
    try:
        value = orjson.loads(body) if body else None
    except orjson.JSONDecodeError as error:
        raise RingsideError("invalid_request", f"The body is not valid JSON: {error}.") from None
    if not isinstance(value, dict):
        raise RingsideError("invalid_request", "The body must be a JSON object.")
    return value
