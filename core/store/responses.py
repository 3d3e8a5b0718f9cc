"""Stored responses: their statements (written through the group-commit writer) and reads."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, bindparam, delete, insert, select
from sqlalchemy.sql import Executable

from core.domain.responses import (
    MAX_CHAIN,
    StoredResponse,
    StoredResponseDeletion,
    StoredResponsePurge,
    StoredResponsesErased,
)
from core.store.tables import STORED_RESPONSES

STATEMENTS: dict[type, tuple[Executable, Callable[[Any], dict[str, Any]]]] = {
    StoredResponse: (insert(STORED_RESPONSES), dataclasses.asdict),
    StoredResponseDeletion: (
        delete(STORED_RESPONSES).where(STORED_RESPONSES.c.id == bindparam("b_id")),
        lambda r: {"b_id": r.response_id},
    ),
    StoredResponsesErased: (
        delete(STORED_RESPONSES).where(STORED_RESPONSES.c.customer_id == bindparam("b_customer")),
        lambda r: {"b_customer": r.customer_id},
    ),
    StoredResponsePurge: (
        delete(STORED_RESPONSES).where(STORED_RESPONSES.c.created < bindparam("b_before")),
        lambda r: {"b_before": r.created_before},
    ),
}


def stored_response(engine: Engine, response_id: str) -> StoredResponse | None:
    with engine.connect() as connection:
        row = connection.execute(select(STORED_RESPONSES).where(STORED_RESPONSES.c.id == response_id)).first()
    return None if row is None else StoredResponse(**row._asdict())


def chain_before(engine: Engine, response: StoredResponse) -> list[StoredResponse]:
    """The responses `response` continues, oldest first, at most MAX_CHAIN (the newest kept), each
    in the same tenant (a chain never crosses accounts, whatever ids a caller sent)."""
    chain: list[StoredResponse] = []
    previous = response.previous_response_id
    with engine.connect() as connection:
        while previous and len(chain) < MAX_CHAIN:
            row = connection.execute(select(STORED_RESPONSES).where(STORED_RESPONSES.c.id == previous)).first()
            if row is None:
                break  # purged or deleted: the chain starts here
            found = StoredResponse(**row._asdict())
            if (found.account_id, found.livemode) != (response.account_id, response.livemode):
                break
            chain.append(found)
            previous = found.previous_response_id
    chain.reverse()
    return chain
