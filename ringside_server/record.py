"""`@record`: an immutable value the hot paths make one or several of per call."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar, dataclass_transform

_R = TypeVar("_R")


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def record(cls: type[_R]) -> type[_R]:
    """An immutable record the hot path makes several of per call (transfers, usage records, state
    changes, token counts). Frozen for the type checker (mypy refuses any assignment to a field) and
    hashable as a frozen dataclass is, but built by a plain `__init__`: a frozen dataclass sets each
    field through `object.__setattr__`, ~3.5 µs for a transfer's 13 fields instead of ~0.6 µs."""
    return dataclass(slots=True, unsafe_hash=True)(cls)
