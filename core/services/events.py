"""GET /v1/events: every event an account emitted in the last 30 days, whether or not a webhook
endpoint subscribed (Stripe's events list), so a developer can replay what a receiver missed."""

from __future__ import annotations

import dataclasses

from core.domain.entities import has_scope
from core.domain.webhooks import EVENTS_LISTED_S, Event, EventQuery, event_query_error
from core.services.core import Core, Principal, require_scope
from core.services.pages import DEFAULT_LIMIT, MAX_LIMIT
from core.services.webhooks import read
from core.store import webhooks as store
from ringside_server.errors import RingsideError

MAX_CURSOR = 64


def _readable_by(principal: Principal) -> None:
    """api:read (GET of Ringside objects) or api:webhooks (a receiver replaying what it missed)."""
    require_scope(principal, "api:webhooks" if has_scope(principal.scopes, "api:webhooks") else "api:read")


async def list_events(core: Core, principal: Principal, query: EventQuery) -> tuple[list[Event], bool]:
    """One page of the caller's tenant's events, newest first."""
    _readable_by(principal)
    limit = query.limit or DEFAULT_LIMIT
    if not 1 <= limit <= MAX_LIMIT:
        raise RingsideError("invalid_request", "limit must be between 1 and 100.", "limit")
    if query.starting_after and query.ending_before:
        raise RingsideError("invalid_request", "Use starting_after or ending_before, not both.", "starting_after")
    error = event_query_error(query)
    if error is not None:
        raise RingsideError("invalid_request", *error)
    oldest_listed = core.now() - EVENTS_LISTED_S
    bounded = dataclasses.replace(
        query,
        limit=limit,
        created_gte=max(query.created_gte, oldest_listed),
        starting_after=query.starting_after[:MAX_CURSOR],
        ending_before=query.ending_before[:MAX_CURSOR],
    )
    rows = await read(store.events, core.engine, principal.account_id, principal.livemode, bounded)
    has_more = len(rows) > limit
    rows = rows[:limit]
    if bounded.ending_before:
        rows.reverse()
    return rows, has_more


async def get_event(core: Core, principal: Principal, event_id: str) -> Event:
    """One event of the caller's tenant from the last 30 days; anything else is 404."""
    _readable_by(principal)
    event = await read(store.event, core.engine, event_id[:MAX_CURSOR])
    if (
        event is None
        or (event.account_id, event.livemode) != (principal.account_id, principal.livemode)
        or event.created < core.now() - EVENTS_LISTED_S
    ):
        raise RingsideError("not_found", f"No such event: '{event_id[:MAX_CURSOR]}'.", "id")
    return event
