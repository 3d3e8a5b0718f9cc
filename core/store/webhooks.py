"""Reads of webhook endpoints, events, the outbox and delivery attempts (rare: straight from the
database, in the default executor; every write goes through the group-commit writer)."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Engine, select

from core.domain.webhooks import DeliveryAttempt, Event, EventQuery, WebhookEndpoint
from core.store.tables import DELIVERY_ATTEMPTS, EVENTS, OUTBOX, WEBHOOK_ENDPOINTS


def _endpoint(row: Any) -> WebhookEndpoint:
    return WebhookEndpoint(
        id=row["id"],
        account_id=row["account_id"],
        livemode=row["livemode"],
        url=row["url"],
        events=orjson.loads(row["events_json"]),
        description=row["description"],
        secret=row["secret"],
        created=row["created"],
        previous_secret=row["previous_secret"],
        previous_secret_expires_at=row["previous_secret_expires_at"],
        enabled=row["enabled"],
        failing_since=row["failing_since"],
        deleted_at=row["deleted_at"],
    )


def endpoint(engine: Engine, endpoint_id: str) -> WebhookEndpoint | None:
    """A live (not deleted) endpoint by id."""
    w = WEBHOOK_ENDPOINTS.c
    with engine.connect() as connection:
        row = connection.execute(
            select(WEBHOOK_ENDPOINTS).where(w.id == endpoint_id, w.deleted_at.is_(None))
        ).mappings()
        found = row.first()
    return None if found is None else _endpoint(found)


def endpoints(engine: Engine, account_id: str, livemode: bool) -> list[WebhookEndpoint]:
    """A tenant's live endpoints, newest first."""
    w = WEBHOOK_ENDPOINTS.c
    query = (
        select(WEBHOOK_ENDPOINTS)
        .where(w.account_id == account_id, w.livemode == livemode, w.deleted_at.is_(None))
        .order_by(w.id.desc())
    )
    with engine.connect() as connection:
        return [_endpoint(row) for row in connection.execute(query).mappings()]


def _event(row: Any) -> Event:
    return Event(
        row["id"],
        row["account_id"],
        row["livemode"],
        row["type"],
        row["customer_id"],
        row["trigger_key"],
        row["body"],
        row["created"],
    )


def event(engine: Engine, event_id: str) -> Event | None:
    with engine.connect() as connection:
        row = connection.execute(select(EVENTS).where(EVENTS.c.id == event_id)).mappings().first()
    return None if row is None else _event(row)


def events(engine: Engine, account_id: str, livemode: bool, query: EventQuery) -> list[Event]:
    """One tenant's events matching `query`, newest first (oldest first with `ending_before`), one
    more than its limit to tell has_more."""
    e = EVENTS.c
    selected = select(EVENTS).where(e.account_id == account_id, e.livemode == livemode, e.created >= query.created_gte)
    if query.event_type:
        selected = selected.where(e.type == query.event_type)
    if query.created_lte is not None:
        selected = selected.where(e.created <= query.created_lte)
    if query.starting_after:
        selected = selected.where(e.id < query.starting_after).order_by(e.id.desc())
    elif query.ending_before:
        selected = selected.where(e.id > query.ending_before).order_by(e.id.asc())
    else:
        selected = selected.order_by(e.id.desc())
    with engine.connect() as connection:
        return [_event(row) for row in connection.execute(selected.limit(query.limit + 1)).mappings()]


def pending_outbox(engine: Engine, limit: int) -> list[tuple[str, str, Event]]:
    """Unrelayed outbox entries, oldest first → (outbox id, endpoint id, event)."""
    o = OUTBOX.c
    query = (
        select(o.id.label("outbox_id"), o.endpoint_id.label("outbox_endpoint_id"), EVENTS)
        .join(EVENTS, EVENTS.c.id == o.event_id)
        .where(o.relayed_at.is_(None))
        .order_by(o.id)
        .limit(limit)
    )
    with engine.connect() as connection:
        return [
            (row["outbox_id"], row["outbox_endpoint_id"], _event(row)) for row in connection.execute(query).mappings()
        ]


def attempts(
    engine: Engine, endpoint_id: str, limit: int, starting_after: str, ending_before: str
) -> list[DeliveryAttempt]:
    """Attempts of one endpoint, newest first, one more than `limit` to tell has_more."""
    d = DELIVERY_ATTEMPTS.c
    query = select(DELIVERY_ATTEMPTS).where(d.endpoint_id == endpoint_id)
    if starting_after:
        query = query.where(d.id < starting_after).order_by(d.id.desc())
    elif ending_before:
        query = query.where(d.id > ending_before).order_by(d.id.asc())
    else:
        query = query.order_by(d.id.desc())
    with engine.connect() as connection:
        rows = [DeliveryAttempt(**dict(row)) for row in connection.execute(query.limit(limit + 1)).mappings()]
    return rows


def attempt_event(engine: Engine, attempt_id: str) -> str | None:
    d = DELIVERY_ATTEMPTS.c
    with engine.connect() as connection:
        return connection.execute(select(d.event_id).where(d.id == attempt_id)).scalar()
