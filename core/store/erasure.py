"""The erasure's statements and the reads that plan it (what to scrub, what to forget)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, bindparam, delete, select, update
from sqlalchemy.sql import Executable

from core.domain.erasure import (
    COMPLETED,
    PENDING,
    CustomerErased,
    CustomerQueriesErased,
    ErasureRequested,
    EventScrubbed,
    FileScrubbed,
    IdempotentResponseForgotten,
    StoreQueriesErased,
    VectorStoreScrubbed,
    shows_customer,
)
from core.store.tables import CUSTOMERS, EVENTS, FILES, IDEMPOTENCY, VECTOR_STORE_QUERIES, VECTOR_STORES

STATEMENTS: dict[type, tuple[Executable, Callable[[Any], dict[str, Any]]]] = {
    ErasureRequested: (
        update(CUSTOMERS).where(CUSTOMERS.c.id == bindparam("b_id")).values(blocked=True, erasure_status=PENDING),
        lambda r: {"b_id": r.customer_id},
    ),
    CustomerErased: (
        update(CUSTOMERS)
        .where(CUSTOMERS.c.id == bindparam("b_id"))
        .values(
            external_id=None,
            name="",
            email="",
            metadata_json="{}",
            stripe_customer_id="",
            deleted_at=bindparam("b_at"),
            erasure_status=COMPLETED,
        ),
        lambda r: {"b_id": r.customer_id, "b_at": r.erased_at},
    ),
    EventScrubbed: (
        update(EVENTS).where(EVENTS.c.id == bindparam("b_id")).values(body=bindparam("b_body")),
        lambda r: {"b_id": r.event_id, "b_body": r.body},
    ),
    IdempotentResponseForgotten: (
        delete(IDEMPOTENCY).where(
            IDEMPOTENCY.c.account_id == bindparam("b_account"),
            IDEMPOTENCY.c.livemode == bindparam("b_livemode"),
            IDEMPOTENCY.c.route == bindparam("b_route"),
            IDEMPOTENCY.c.key == bindparam("b_key"),
        ),
        lambda r: {"b_account": r.account_id, "b_livemode": r.livemode, "b_route": r.route, "b_key": r.key},
    ),
    FileScrubbed: (
        update(FILES).where(FILES.c.id == bindparam("b_id")).values(filename="", sha256=""),
        lambda r: {"b_id": r.file_id},
    ),
    VectorStoreScrubbed: (
        update(VECTOR_STORES).where(VECTOR_STORES.c.id == bindparam("b_id")).values(name="", metadata_json="{}"),
        lambda r: {"b_id": r.store_id},
    ),
}

# Deletions that must follow, within one commit, the inserts of the rows they delete: a search
# logged in the same group commit as the erasure is inserted first, then deleted (records.py
# registers these after the RAG statements).
LATE_STATEMENTS: dict[type, tuple[Executable, Callable[[Any], dict[str, Any]]]] = {
    CustomerQueriesErased: (
        delete(VECTOR_STORE_QUERIES).where(VECTOR_STORE_QUERIES.c.customer_id == bindparam("b_customer")),
        lambda r: {"b_customer": r.customer_id},
    ),
    StoreQueriesErased: (
        delete(VECTOR_STORE_QUERIES).where(VECTOR_STORE_QUERIES.c.store_id == bindparam("b_store")),
        lambda r: {"b_store": r.store_id},
    ),
}


def customer_events(engine: Engine, customer_id: str) -> list[tuple[str, str]]:
    """(id, body) of every kept event about the customer."""
    with engine.connect() as connection:
        rows = connection.execute(select(EVENTS.c.id, EVENTS.c.body).where(EVENTS.c.customer_id == customer_id))
        return [(row[0], row[1]) for row in rows]


def responses_showing(
    engine: Engine, account_id: str, livemode: bool, customer_id: str
) -> list[IdempotentResponseForgotten]:
    """The tenant's stored idempotent responses that show the customer (bounded: kept ≥ 24 h, then
    purged)."""
    i = IDEMPOTENCY.c
    query = select(i.route, i.key, i.body).where(i.account_id == account_id, i.livemode == livemode)
    with engine.connect() as connection:
        return [
            IdempotentResponseForgotten(account_id, livemode, route, key)
            for route, key, body in connection.execute(query)
            if shows_customer(bytes(body), customer_id)
        ]


def erasure_status(engine: Engine, customer_id: str, account_id: str, livemode: bool) -> str | None:
    """A (possibly deleted) customer's erasure status in this tenant, None when there is no such row."""
    c = CUSTOMERS.c
    with engine.connect() as connection:
        found = connection.execute(
            select(c.erasure_status).where(c.id == customer_id, c.account_id == account_id, c.livemode == livemode)
        ).first()
    return None if found is None else str(found[0])
