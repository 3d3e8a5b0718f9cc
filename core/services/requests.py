"""The request log: edges record their calls (internal), accounts list them (api:read)."""

from __future__ import annotations

import contextlib

from sqlalchemy.exc import IntegrityError

from core.domain import client_tokens as token_rules
from core.domain.requests import MAX_ENTRIES, RequestLogEntry, RequestQuery, RequestRow
from core.services.core import Core, Principal, require_scope
from core.services.pages import DEFAULT_LIMIT, MAX_LIMIT
from core.services.webhooks import read
from core.store import request_log as store
from ringside_server.errors import RingsideError

MAX_ID = 64


class Caller:
    """Who made a recorded call, as the edge saw it (the core attributes the row)."""

    def __init__(
        self, api_key: str, client_token: str, customer_ref: str, user: str, customer_id: str, key_id: str = ""
    ) -> None:
        self.api_key, self.client_token = api_key, client_token
        self.customer_ref, self.user, self.customer_id = customer_ref, user, customer_id
        self.key_id = key_id  # a call Ringside made on a key's behalf (a batch's line)

    def identity(self) -> tuple[str, ...]:
        """Everything `attributed` reads of the caller: two callers alike are attributed alike."""
        return (self.api_key, self.client_token, self.customer_ref, self.user, self.customer_id, self.key_id)


def attributed(core: Core, caller: Caller) -> tuple[str, bool, str | None] | None:
    """(account, livemode, customer id) of a recorded call; None when its credential no longer
    authenticates (a key revoked since: the row is dropped, as no one could read it)."""
    if caller.client_token:
        try:
            claims, _ = token_rules.verified(core.state, caller.client_token, core.clock())
        except RingsideError:
            return None
        return claims.account_id, claims.livemode, claims.customer_id
    key = core.meter.key_by_id(caller.key_id) if caller.key_id else core.meter.authenticate(caller.api_key)
    if key is None or (caller.key_id and key.revoked_at is not None):
        return None
    if caller.customer_id:
        return key.account_id, key.livemode, caller.customer_id
    customer = core.state.attributed_customer(key.account_id, key.livemode, caller.customer_ref, caller.user)
    return key.account_id, key.livemode, customer.id if customer is not None else None


async def record(core: Core, calls: list[tuple[Caller, RequestLogEntry]]) -> int:
    """Keep the entries whose caller still authenticates; how many were kept."""
    kept = kept_entries(core, calls)
    await write_entries(core, kept)
    return len(kept)


async def write_entries(core: Core, rows: list[RequestLogEntry]) -> None:
    """Write request-log rows; on a duplicate (entries sent again after an answer was lost: a lease
    report's, then the same by RecordRequests) one by one, skipping those already recorded."""
    if not rows:
        return
    try:
        await core.writer.write(list(rows))
    except IntegrityError:
        for row in rows:
            with contextlib.suppress(IntegrityError):
                await core.writer.write([row])


def kept_entries(
    core: Core, calls: list[tuple[Caller, RequestLogEntry]], tenant: tuple[str, bool] | None = None
) -> list[RequestLogEntry]:
    """The rows of the entries whose caller still authenticates — with `tenant` (account, livemode:
    the entries a lease's report carries), only those attributed to that tenant: one tenant's
    report never records another's calls."""
    if len(calls) > MAX_ENTRIES:
        raise RingsideError("invalid_request", f"At most {MAX_ENTRIES} entries per request.")
    kept: list[RequestLogEntry] = []
    # An edge's batch is mostly one caller's calls: each distinct caller is authenticated once (a
    # key's hash and lookups per entry were the core's largest per-call cost of the request log);
    # nothing here awaits, so the state cannot change between two entries of the batch.
    attributions: dict[tuple[str, ...], tuple[str, bool, str | None] | None] = {}
    for caller, entry in calls:
        identity = caller.identity()
        if identity in attributions:
            who = attributions[identity]
        else:
            who = attributions[identity] = attributed(core, caller)
        if who is None or (tenant is not None and who[:2] != tenant):
            continue
        account_id, livemode, customer_id = who
        kept.append(
            RequestLogEntry(
                request_id=entry.request_id[:MAX_ID],
                account_id=account_id,
                livemode=livemode,
                customer_id=customer_id,
                route=entry.route[:100],
                model=entry.model[:300],
                resolved_model=entry.resolved_model[:300],
                status=entry.status,
                error_code=entry.error_code[:64],
                latency_ms=max(0, entry.latency_ms),
                created=entry.created or core.now(),
                created_ms=entry.created_ms or int(core.clock() * 1000),
            )
        )
    return kept


async def list_requests(
    core: Core, principal: Principal, customer_ref: str, query: RequestQuery
) -> tuple[list[RequestRow], bool]:
    require_scope(principal, "api:read")
    limit = query.limit or DEFAULT_LIMIT
    if not 1 <= limit <= MAX_LIMIT:
        raise RingsideError("invalid_request", "limit must be between 1 and 100.", "limit")
    if query.starting_after and query.ending_before:
        raise RingsideError("invalid_request", "Use starting_after or ending_before, not both.", "starting_after")
    customer_id = None
    if customer_ref:
        customer = core.state.find_customer(principal.account_id, principal.livemode, customer_ref)
        customer_id = customer.id if customer is not None else customer_ref[:MAX_ID]  # an erased one's bare id
    bounded = RequestQuery(
        customer_id=customer_id,
        model=query.model[:300],
        status=query.status,
        since=query.since,
        until=query.until,
        limit=limit,
        starting_after=query.starting_after[:MAX_ID],
        ending_before=query.ending_before[:MAX_ID],
    )
    rows = await read(store.requests, core.engine, principal.account_id, principal.livemode, bounded)
    has_more = len(rows) > limit
    rows = rows[:limit]
    if bounded.ending_before:
        rows.reverse()
    return rows, has_more


async def get_request(core: Core, principal: Principal, request_id: str) -> RequestRow:
    require_scope(principal, "api:read")
    found = await read(store.request, core.engine, principal.account_id, principal.livemode, request_id[:MAX_ID])
    if found is None:
        raise RingsideError("not_found", f"No such request: '{request_id[:MAX_ID]}'.", "id")
    return found
