"""/v1/webhooks: endpoints (create, list, get, update, delete, rotate), their delivery log, redeliver."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import urllib.parse
from collections.abc import Callable
from typing import TypeVar

from core.domain.webhooks import (
    DEFAULT_OVERLAP_S,
    MAX_DESCRIPTION,
    MAX_ENDPOINTS,
    MAX_OVERLAP_S,
    DeliveryAttempt,
    EndpointInput,
    OutboxEntry,
    WebhookEndpoint,
    WebhookEndpointUpdate,
    new_secret,
    normalized_events,
    subscribes,
    url_syntax_error,
)
from core.services.core import Core, Principal, require_scope
from core.services.pages import DEFAULT_LIMIT, MAX_LIMIT, page
from core.store import webhooks as store
from ringside_server.errors import RingsideError
from ringside_server.ids import new_sortable_id

T = TypeVar("T")
RESOLVE_TIMEOUT_S = 2.0


async def read(function: Callable[..., T], *args: object) -> T:
    return await asyncio.get_running_loop().run_in_executor(None, function, *args)


def _invalid(message: str, param: str) -> RingsideError:
    return RingsideError("invalid_request", message, param)


async def _check_url(core: Core, url: str) -> str:
    """http(s), a host, ≤ 2048 chars; a host that resolves to a blocked address is refused (one that
    does not resolve yet is accepted: the worker checks again at every connection)."""
    error = url_syntax_error(url)
    if error is not None:
        raise _invalid(error, "url")
    parts = urllib.parse.urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    host = parts.hostname or ""
    try:
        infos = await asyncio.wait_for(
            asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM), RESOLVE_TIMEOUT_S
        )
    except (OSError, TimeoutError, UnicodeError):
        return url  # not resolvable (yet)
    for info in infos:
        address = str(info[4][0])
        if core.webhook_policy.refuses(address):
            raise _invalid(
                f"url's host {host[:255]} resolves to {address}, a loopback, private, link-local or reserved "
                "address that webhooks may not reach (RINGSIDE_WEBHOOK_ALLOWED_NETWORKS lifts this per range).",
                "url",
            )
    return url


def _check(data: EndpointInput, names: frozenset[str]) -> None:
    if "events" in names:
        events = normalized_events(data.events)
        if isinstance(events, str):
            raise _invalid(events, "events")
        data.events = events
    if "description" in names and len(data.description) > MAX_DESCRIPTION:
        raise _invalid(f"description must be at most {MAX_DESCRIPTION} characters.", "description")


async def find(core: Core, principal: Principal, endpoint_id: str) -> WebhookEndpoint:
    require_scope(principal, "api:webhooks")
    found = await read(store.endpoint, core.engine, endpoint_id[:64])
    if found is None or found.account_id != principal.account_id or found.livemode != principal.livemode:
        raise RingsideError("not_found", f"No such webhook endpoint: '{endpoint_id[:100]}'.", "id")
    return found


async def create(core: Core, principal: Principal, data: EndpointInput) -> WebhookEndpoint:
    """The new endpoint, with its secret (shown this once)."""
    require_scope(principal, "api:webhooks")
    _check(data, frozenset(("events", "description")))
    url = await _check_url(core, data.url)
    async with core.webhook_lock:
        mine = await read(store.endpoints, core.engine, principal.account_id, principal.livemode)
        if len(mine) >= MAX_ENDPOINTS:
            raise _invalid(f"An account may have at most {MAX_ENDPOINTS} webhook endpoints per mode.", "url")
        endpoint = WebhookEndpoint(
            id=new_sortable_id("we"),
            account_id=principal.account_id,
            livemode=principal.livemode,
            url=url,
            events=data.events,
            description=data.description,
            secret=new_secret(),
            created=core.now(),
        )
        await core.writer.write([endpoint])
    return endpoint


async def list_endpoints(
    core: Core, principal: Principal, limit: int, starting_after: str, ending_before: str
) -> tuple[list[WebhookEndpoint], bool]:
    require_scope(principal, "api:webhooks")
    mine = await read(store.endpoints, core.engine, principal.account_id, principal.livemode)
    return page(mine, lambda e: e.id, limit, starting_after, ending_before)


async def _change(
    core: Core, principal: Principal, endpoint_id: str, change: Callable[[WebhookEndpoint], None]
) -> WebhookEndpoint:
    async with core.webhook_lock:
        after = dataclasses.replace(await find(core, principal, endpoint_id))
        change(after)
        await core.writer.write([WebhookEndpointUpdate(after)])
    return after


async def update(core: Core, principal: Principal, endpoint_id: str, data: EndpointInput) -> WebhookEndpoint:
    require_scope(principal, "api:webhooks")
    _check(data, data.present)
    if "url" in data.present:
        data.url = await _check_url(core, data.url)

    def change(endpoint: WebhookEndpoint) -> None:
        for name in ("url", "events", "description", "enabled"):
            if name in data.present:
                setattr(endpoint, name, getattr(data, name))
        if "enabled" in data.present and data.enabled:
            endpoint.failing_since = 0  # re-enabled: three days from the next failure

    return await _change(core, principal, endpoint_id, change)


async def delete(core: Core, principal: Principal, endpoint_id: str) -> WebhookEndpoint:
    require_scope(principal, "api:webhooks")
    now = core.now()
    return await _change(core, principal, endpoint_id, lambda e: setattr(e, "deleted_at", now))


async def rotate_secret(core: Core, principal: Principal, endpoint_id: str, overlap_s: int | None) -> WebhookEndpoint:
    """A new secret; the old one keeps signing (beside it) for the overlap (default 24 h, ≤ 7 days)."""
    require_scope(principal, "api:webhooks")
    overlap = DEFAULT_OVERLAP_S if overlap_s is None else overlap_s
    if not 0 <= overlap <= MAX_OVERLAP_S:
        raise _invalid(f"overlap_seconds must be between 0 and {MAX_OVERLAP_S}.", "overlap_seconds")
    now = core.now()

    def change(endpoint: WebhookEndpoint) -> None:
        endpoint.previous_secret, endpoint.secret = endpoint.secret, new_secret()
        endpoint.previous_secret_expires_at = now + overlap

    return await _change(core, principal, endpoint_id, change)


async def deliveries(
    core: Core, principal: Principal, endpoint_id: str, limit: int, starting_after: str, ending_before: str
) -> tuple[list[DeliveryAttempt], bool]:
    """Every attempt of one endpoint, newest first."""
    endpoint = await find(core, principal, endpoint_id)
    limit = limit or DEFAULT_LIMIT
    if not 1 <= limit <= MAX_LIMIT:
        raise _invalid("limit must be between 1 and 100.", "limit")
    if starting_after and ending_before:
        raise _invalid("Use starting_after or ending_before, not both.", "starting_after")
    rows = await read(store.attempts, core.engine, endpoint.id, limit, starting_after[:64], ending_before[:64])
    has_more = len(rows) > limit
    rows = rows[:limit]
    if ending_before:
        rows.reverse()
    return rows, has_more


async def redeliver(core: Core, principal: Principal, endpoint_id: str, delivery_id: str) -> OutboxEntry:
    """Deliver an event to this endpoint once more (a new delivery with its own retries). The delivery
    is named by its event (`evt_…`) or by one of its attempts (`wha_…`)."""
    endpoint = await find(core, principal, endpoint_id)
    event_id = delivery_id[:64]
    if event_id.startswith("wha_"):
        found: str | None = await read(store.attempt_event, core.engine, event_id)
        event_id = found or ""
    event = await read(store.event, core.engine, event_id) if event_id else None
    if event is None or event.account_id != endpoint.account_id or event.livemode != endpoint.livemode:
        raise RingsideError("not_found", f"No such delivery: '{delivery_id[:100]}'.", "delivery_id")
    if not subscribes(endpoint.events, event.type):
        raise _invalid(
            f"This endpoint is not subscribed to {event.type} events: add it to the endpoint's events first.",
            "delivery_id",
        )
    entry = OutboxEntry(new_sortable_id("obx"), event.id, endpoint.id, core.now())
    await core.writer.write([entry])
    return entry
