"""JSON out with USD amounts as exact decimal numbers (never via binary floats)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import orjson

_MARK = "\u00a7DEC"
_MARKED = re.compile(rb'"\xc2\xa7DEC(-?[0-9.]+)"')


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return _MARK + format(value.normalize(), "f")
    raise TypeError(f"cannot serialize {type(value).__name__}")


def dumps(value: Any) -> bytes:
    out = orjson.dumps(value, default=_default)
    return _MARKED.sub(rb"\1", out) if b"\xc2\xa7DEC" in out else out
