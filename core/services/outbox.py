"""The worker's side of webhooks: the outbox relay's reads and marks, and each delivery attempt's
target and record (internal token only)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from dataclasses import dataclass

from core.domain.webhooks import (
    DISABLE_AFTER_S,
    DeliveryAttempt,
    OutboxRelayed,
    WebhookEndpointUpdate,
    new_event,
)
from core.services.core import Core
from core.services.webhooks import read
from core.store import webhooks as store
from ringside_server.errors import RingsideError
from ringside_server.ids import new_sortable_id

log = logging.getLogger(__name__)
MAX_CLAIM = 500
MAX_WAIT_S = 30.0
MAX_ERROR = 500


@dataclass(frozen=True, slots=True)
class OutboxItem:
    outbox_id: str
    event_id: str
    event_type: str
    customer_id: str
    endpoint_ids: list[str]
    redelivery: bool


async def claim(core: Core, limit: int, wait_s: float) -> list[OutboxItem]:
    """Unrelayed entries, each with the endpoints to deliver to; waits up to `wait_s` for one."""
    limit = max(1, min(limit, MAX_CLAIM))
    core.outbox_written.clear()
    pending = await read(store.pending_outbox, core.engine, limit)
    if not pending and wait_s > 0:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(core.outbox_written.wait(), min(wait_s, MAX_WAIT_S))
        pending = await read(store.pending_outbox, core.engine, limit)
    if core.metrics is not None:
        now = core.clock()
        for _, _, event in pending:
            core.metrics.outbox_lag.observe(max(0.0, now - event.created))
    items = []
    subscribers: dict[tuple[str, bool], list[tuple[str, list[str], bool]]] = {}
    for outbox_id, endpoint_id, event in pending:
        tenant = (event.account_id, event.livemode)
        if tenant not in subscribers:
            found = await read(store.endpoints, core.engine, *tenant)
            subscribers[tenant] = [(e.id, e.events, e.enabled) for e in found]
        if endpoint_id:
            targets = [endpoint_id]
        else:
            targets = [
                we for we, events, enabled in subscribers[tenant] if enabled and ("*" in events or event.type in events)
            ]
        items.append(OutboxItem(outbox_id, event.id, event.type, event.customer_id or "", targets, bool(endpoint_id)))
    return items


async def mark_relayed(core: Core, outbox_ids: list[str]) -> None:
    if len(outbox_ids) > MAX_CLAIM:
        raise RingsideError("invalid_request", f"At most {MAX_CLAIM} ids at once.", "outbox_ids")
    now = core.now()
    await core.writer.write([OutboxRelayed(outbox_id[:64], now) for outbox_id in outbox_ids])


@dataclass(frozen=True, slots=True)
class DeliveryTarget:
    url: str
    secrets: list[str]  # newest first
    body: str
    event_type: str
    active: bool  # false: the endpoint was deleted or disabled, stop delivering


async def target(core: Core, event_id: str, endpoint_id: str) -> DeliveryTarget:
    event = await read(store.event, core.engine, event_id[:64])
    if event is None:
        raise RingsideError("not_found", f"No such event: '{event_id[:100]}'.", "event_id")
    endpoint = await read(store.endpoint, core.engine, endpoint_id[:64])
    if endpoint is None:
        return DeliveryTarget("", [], event.body, event.type, False)
    return DeliveryTarget(endpoint.url, endpoint.live_secrets(core.now()), event.body, event.type, endpoint.enabled)


async def record_attempt(core: Core, attempt: DeliveryAttempt) -> bool:
    """Log one attempt; a success clears the endpoint's failing streak, a failure that ends three
    days of failures disables it and fires `webhook_endpoint.disabled` (in the same commit).
    `attempt.created` is the workflow's clock (Temporal's time, which tests may skip). → disabled."""
    attempt = dataclasses.replace(attempt, id=new_sortable_id("wha"), error=attempt.error[:MAX_ERROR])
    async with core.webhook_lock:
        endpoint = await read(store.endpoint, core.engine, attempt.endpoint_id)
        records: list[object] = [attempt]
        disabled = False
        if endpoint is not None:
            after = dataclasses.replace(endpoint)
            if attempt.succeeded:
                after.failing_since = 0
            elif not after.failing_since:
                after.failing_since = attempt.created
            if after.enabled and not attempt.succeeded and attempt.created - after.failing_since >= DISABLE_AFTER_S:
                after.enabled = False
                disabled = True
                data = {
                    "webhook_endpoint": {"id": after.id, "url": after.url, "failing_since": after.failing_since},
                    "reason": "Every delivery attempt failed for 3 days.",
                }
                records += new_event(after.account_id, after.livemode, "webhook_endpoint.disabled", data, core.now())
            if after != endpoint:
                records.append(WebhookEndpointUpdate(after))
        await core.writer.write(records)
    return disabled
