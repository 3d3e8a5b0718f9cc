"""Assistants API objects: their statements (written through the group-commit writer) and reads."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, bindparam, delete, insert, or_, select, update
from sqlalchemy.sql import Executable

from core.domain.assistants import (
    AssistantObject,
    AssistantObjectDeletion,
    AssistantObjectPurge,
    AssistantObjectsErased,
    AssistantObjectUpdate,
)
from core.store.tables import ASSISTANT_OBJECTS as T

ANY_STATUS = "*"  # an update without a status condition compares against this (never a status)


def _update_row(u: AssistantObjectUpdate) -> dict[str, Any]:
    allowed = list(u.only_from) or [ANY_STATUS]
    return {
        "b_id": u.id,
        "status": u.status,
        "body_json": u.body_json,
        "private_json": u.private_json,
        "b_any": not u.only_from,
        "b_from": allowed,
    }


STATEMENTS: dict[type, tuple[Executable, Callable[[Any], dict[str, Any]]]] = {
    AssistantObject: (insert(T), dataclasses.asdict),
    AssistantObjectUpdate: (
        update(T)
        .where(T.c.id == bindparam("b_id"))
        .where(or_(bindparam("b_any"), T.c.status.in_(bindparam("b_from", expanding=True)))),
        _update_row,
    ),
    AssistantObjectDeletion: (
        delete(T).where(or_(T.c.id == bindparam("b_id"), T.c.parent_id == bindparam("b_id"))),
        lambda r: {"b_id": r.id},
    ),
    AssistantObjectsErased: (
        delete(T).where(T.c.customer_id == bindparam("b_customer")),
        lambda r: {"b_customer": r.customer_id},
    ),
    AssistantObjectPurge: (
        delete(T).where(T.c.created < bindparam("b_before")),
        lambda r: {"b_before": r.created_before},
    ),
}


def get(engine: Engine, object_id: str) -> AssistantObject | None:
    with engine.connect() as connection:
        row = connection.execute(select(T).where(T.c.id == object_id)).first()
    return None if row is None else AssistantObject(**row._asdict())


@dataclasses.dataclass(frozen=True, slots=True)
class Listing:
    """One list's scope and page (the cursor objects are checked to be in it by the caller)."""

    kind: str
    account_id: str
    livemode: bool
    customer_ids: tuple[str, ...] | None  # None: the account's and every customer's
    parent_id: str
    limit: int
    descending: bool
    after_position: int | None
    before_position: int | None


def page(engine: Engine, listing: Listing) -> tuple[list[AssistantObject], bool]:
    """`limit` objects in the order asked after (or before) a cursor, and whether more follow."""
    query = select(T).where(T.c.kind == listing.kind, T.c.account_id == listing.account_id)
    query = query.where(T.c.livemode == listing.livemode)
    if listing.customer_ids is not None:
        query = query.where(T.c.customer_id.in_(listing.customer_ids))
    if listing.parent_id:
        query = query.where(T.c.parent_id == listing.parent_id)
    forward = listing.descending
    if listing.after_position is not None:
        query = query.where(T.c.position < listing.after_position if forward else T.c.position > listing.after_position)
    reverse_page = listing.before_position is not None and listing.after_position is None
    if reverse_page:
        assert listing.before_position is not None
        query = query.where(
            T.c.position > listing.before_position if forward else T.c.position < listing.before_position
        )
        forward = not forward
    query = query.order_by(T.c.position.desc() if forward else T.c.position.asc())
    with engine.connect() as connection:
        rows = connection.execute(query.limit(listing.limit + 1)).all()
    found = [AssistantObject(**row._asdict()) for row in rows]
    has_more = len(found) > listing.limit
    found = found[: listing.limit]
    if reverse_page:
        found.reverse()
    return found, has_more


def queued_runs(engine: Engine, limit: int) -> list[AssistantObject]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(T).where(T.c.kind == "run", T.c.status == "queued").order_by(T.c.position).limit(limit)
        ).all()
    return [AssistantObject(**row._asdict()) for row in rows]
