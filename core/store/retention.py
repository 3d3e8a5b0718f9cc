"""The retention purges' statements (core/domain/retention.py says what is kept how long)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import bindparam, delete
from sqlalchemy.sql import Executable

from core.domain.retention import EventPurge, IdempotencyPurge, StoreQueryPurge
from core.store.tables import EVENTS, IDEMPOTENCY, VECTOR_STORE_QUERIES

STATEMENTS: dict[type, tuple[Executable, Callable[[Any], dict[str, Any]]]] = {
    EventPurge: (
        delete(EVENTS).where(EVENTS.c.created < bindparam("b_before")),
        lambda r: {"b_before": r.created_before},
    ),
    IdempotencyPurge: (
        delete(IDEMPOTENCY).where(IDEMPOTENCY.c.created < bindparam("b_before")),
        lambda r: {"b_before": r.created_before},
    ),
    StoreQueryPurge: (
        delete(VECTOR_STORE_QUERIES).where(VECTOR_STORE_QUERIES.c.created < bindparam("b_before")),
        lambda r: {"b_before": r.created_before},
    ),
}
