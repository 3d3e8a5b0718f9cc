"""Webhook endpoints, events and their outbox (API.md "Webhooks"): the records and the rules.

An event is serialized once, when it happens, and written with an outbox entry in the same commit
as the ledger change that caused it; the worker's relay turns each outbox entry into one delivery
workflow per subscribed endpoint.
"""

from __future__ import annotations

import base64
import ipaddress
import secrets
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from ringside_server.ids import new_sortable_id
from ringside_server.jsonio import dumps

API_VERSION = "2026-11-01"
CATALOG: tuple[str, ...] = (
    "customer.created",
    "customer.updated",
    "customer.deleted",
    "customer.erased",
    "wallet.topup",
    "wallet.low",
    "wallet.empty",
    "customer.budget_exceeded",
    "customer.period_closed",
    "webhook_endpoint.disabled",
    "stripe.sync_failed",
    "vector_store.file.completed",
    "vector_store.file.failed",
    "batch.completed",
    "batch.failed",
    "batch.expired",
    "batch.cancelled",
    "vector_store.migration.completed",
    "vector_store.migration.failed",
)
ALIASES = {"budget.exceeded": "customer.budget_exceeded"}
ALL_EVENTS = "*"
MAX_URL = 2048
MAX_DESCRIPTION = 500
MAX_EVENTS = len(CATALOG) + 1
MAX_ENDPOINTS = 50  # per account and mode
DEFAULT_OVERLAP_S = 86_400
MAX_OVERLAP_S = 7 * 86_400
# An endpoint failing every attempt for this long is disabled (the retry schedule spans ~3.1 days).
DISABLE_AFTER_S = 3 * 86_400
# What the core keeps: relayed outbox entries a week, the delivery log 30 days (events stay: they
# are what a redelivery sends and what the edge-trigger marks are rebuilt from).


def new_secret() -> str:
    """`whsec_` + base64 of 32 random bytes (the Standard Webhooks key is the decoded part)."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


@dataclass(slots=True)
class WebhookEndpoint:
    id: str
    account_id: str
    livemode: bool
    url: str
    events: list[str]
    description: str
    secret: str
    created: int
    previous_secret: str = ""
    previous_secret_expires_at: int = 0
    enabled: bool = True
    failing_since: int = 0
    deleted_at: int | None = None

    def live_secrets(self, now: int) -> list[str]:
        """Newest first: the current secret, and the previous one while its overlap lasts."""
        if self.previous_secret and self.previous_secret_expires_at > now:
            return [self.secret, self.previous_secret]
        return [self.secret]


@dataclass(frozen=True, slots=True)
class WebhookEndpointUpdate:
    """An endpoint's row after a change (the whole row is rewritten)."""

    endpoint: WebhookEndpoint


@dataclass(frozen=True, slots=True)
class Event:
    id: str
    account_id: str
    livemode: bool
    type: str
    customer_id: str | None
    trigger_key: str
    body: str
    created: int


# GET /v1/events lists what was emitted in the last 30 days (API.md "Usage"), subscribed or not.
EVENTS_LISTED_S = 30 * 86_400


@dataclass(frozen=True, slots=True)
class EventQuery:
    """A page of GET /v1/events: a type, a created range (unix seconds, inclusive), cursors."""

    event_type: str
    created_gte: int
    created_lte: int | None  # None: up to now
    limit: int
    starting_after: str = ""
    ending_before: str = ""


def event_query_error(query: EventQuery) -> tuple[str, str] | None:
    """(message, param) of the first invalid part of `query`, or None."""
    if query.event_type and query.event_type not in CATALOG:
        return f"Unknown event type '{query.event_type[:100]}'. Known: {', '.join(CATALOG)}.", "type"
    if query.created_gte < 0:
        return "created bounds must be unix seconds.", "created"
    return None


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """ "" as endpoint: every endpoint subscribed when the relay picks it up; else a redelivery."""

    id: str
    event_id: str
    endpoint_id: str
    created: int


@dataclass(frozen=True, slots=True)
class OutboxRelayed:
    outbox_id: str
    relayed_at: int


@dataclass(frozen=True, slots=True)
class OutboxPurge:
    """Forget outbox entries relayed before `relayed_before` (their workflows exist in Temporal)."""

    relayed_before: int


@dataclass(frozen=True, slots=True)
class AttemptPurge:
    """Forget delivery attempts logged before `created_before`."""

    created_before: int


@dataclass(frozen=True, slots=True)
class DeliveryAttempt:
    id: str
    endpoint_id: str
    event_id: str
    event_type: str
    attempt: int
    created: int
    succeeded: bool
    http_status: int = 0
    latency_ms: int = 0
    error: str = ""
    next_retry_at: int = 0


@dataclass(slots=True)
class EndpointInput:
    """Fields of a create or an update; for an update only those in `present` change."""

    url: str = ""
    events: list[str] = field(default_factory=list)
    description: str = ""
    enabled: bool = True
    present: frozenset[str] = frozenset()


def url_syntax_error(url: str) -> str | None:
    """Why `url` cannot be delivered to as written, or None. What a sender would quietly rewrite or
    an address check could miss is refused: whitespace, control characters, backslashes, credentials
    in the URL, and an IP address written with a trailing dot."""
    if not 1 <= len(url) <= MAX_URL:
        return f"url must be 1..{MAX_URL} characters."
    if any(ch.isspace() or not ch.isprintable() or ch == "\\" for ch in url):
        return "url must not contain spaces, control characters or backslashes."
    try:
        parts = urllib.parse.urlsplit(url)
        _ = parts.port
    except ValueError as error:
        return f"url is not a valid URL: {error}."
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "url must be an absolute http:// or https:// URL."
    if "@" in parts.netloc:
        return "url must not carry credentials (user:password@): put a secret in the path or verify signatures."
    host = parts.hostname
    if host.endswith(".") and _is_ip_address(host.rstrip(".")):
        return "url's host is an IP address with a trailing dot: write the address without it."
    return None


def _is_ip_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def subscribes(endpoint_events: list[str], event_type: str) -> bool:
    """Whether an endpoint subscribed to these event names receives `event_type`."""
    return ALL_EVENTS in endpoint_events or event_type in endpoint_events


def normalized_events(events: list[str]) -> list[str] | str:
    """The subscribed names (aliases resolved, duplicates dropped), or an error message."""
    if not 1 <= len(events) <= MAX_EVENTS:
        return f"events must list 1..{MAX_EVENTS} event types (or '*')."
    names: list[str] = []
    for raw in events:
        if not isinstance(raw, str) or len(raw) > 100:
            return "events must be strings naming event types."
        name = ALIASES.get(raw, raw)
        if name != ALL_EVENTS and name not in CATALOG:
            return f"Unknown event type '{raw}'. Known: {', '.join(CATALOG)} (or '*')."
        if name not in names:
            names.append(name)
    return names


def new_event(
    account_id: str,
    livemode: bool,
    event_type: str,
    data: dict[str, Any],
    now: int,
    customer_id: str | None = None,
    trigger_key: str = "",
) -> list[object]:
    """The event and its outbox entry, to persist in the commit that caused it."""
    event_id = new_sortable_id("evt")
    body = dumps(
        {
            "id": event_id,
            "object": "event",
            "api_version": API_VERSION,
            "type": event_type,
            "created": now,
            "livemode": livemode,
            "data": data,
        }
    ).decode()
    event = Event(event_id, account_id, livemode, event_type, customer_id, trigger_key, body, now)
    return [event, OutboxEntry(new_sortable_id("obx"), event_id, "", now)]
