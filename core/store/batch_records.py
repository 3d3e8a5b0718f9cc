"""Statements of batches' records (issue 19)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlalchemy.sql import Executable

from core.domain.batches import Batch, BatchUpdate
from core.store.tables import BATCHES

BATCH_FIELDS = tuple(field.name for field in dataclasses.fields(Batch))
# What an update may change: everything but the fixed fields set at create.
_FIXED = ("id", "account_id", "livemode", "customer_id", "key_id", "endpoint", "input_file_id", "created")
_MUTABLE = tuple(name for name in BATCH_FIELDS if name not in _FIXED)

STATEMENTS: dict[type, tuple[Executable, Callable[[Any], dict[str, Any]]]] = {
    Batch: (insert(BATCHES), lambda r: dataclasses.asdict(r)),
    BatchUpdate: (
        update(BATCHES)
        .where(BATCHES.c.id == bindparam("b_id"))
        .values({name: bindparam(f"b_{name}") for name in _MUTABLE}),
        lambda r: {"b_id": r.batch.id, **{f"b_{name}": getattr(r.batch, name) for name in _MUTABLE}},
    ),
}
