"""What Ringside keeps, for how long, and why — the one place (docs/operations.md shows it).

Each bounded kind is a setting with a default; the worker's `ringside-retention` schedule asks the
core to purge what has outlived it. The ledger is never purged: money is never forgotten.
"""

from __future__ import annotations

from dataclasses import dataclass

HOUR_S = 3600
DAY_S = 86_400


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """How long each purged kind is kept, in seconds (settings `RINGSIDE_RETENTION_*`)."""

    events_s: int = 35 * DAY_S
    delivery_attempts_s: int = 30 * DAY_S
    outbox_s: int = 7 * DAY_S
    idempotency_keys_s: int = 48 * HOUR_S
    responses_s: int = 30 * DAY_S
    assistants_s: int = 60 * DAY_S
    rag_queries_s: int = 30 * DAY_S
    requests_s: int = 90 * DAY_S


@dataclass(frozen=True, slots=True)
class Kept:
    what: str
    how_long: str
    setting: str  # "" where it is not a setting
    why: str


KEPT: tuple[Kept, ...] = (
    Kept(
        "ledger transfers and holds", "forever", "", "money is never edited or forgotten; corrections are new transfers"
    ),
    Kept(
        "daily usage aggregates (per day, customer and model: cost, billable, requests, tokens)",
        "forever",
        "",
        "/v1/usage, billing periods and the Stripe sync read them; written with the usage records they sum",
    ),
    Kept(
        "usage records and request log rows (one per call: route, models, status, tokens, cost, latency; no text)",
        "90 days (whole UTC days)",
        "RINGSIDE_RETENTION_REQUESTS_DAYS (≥ 40)",
        "GET /v1/requests lists them; /v1/usage totals stay the same once they go (the daily aggregates hold "
        "them); the ledger audit and a restarting core read 40 days back",
    ),
    Kept("closed billing periods", "forever", "", "invoices and Stripe pushes refer to them"),
    Kept(
        "events",
        "35 days",
        "RINGSIDE_RETENTION_EVENTS_DAYS (≥ 33)",
        "GET /v1/events lists 30 days; a restarting core reads 32 days back to rebuild its threshold marks",
    ),
    Kept(
        "webhook delivery attempts",
        "30 days",
        "RINGSIDE_RETENTION_DELIVERY_ATTEMPTS_DAYS",
        "GET /v1/webhooks/:id/deliveries and redelivery by attempt id",
    ),
    Kept(
        "relayed outbox entries",
        "7 days",
        "RINGSIDE_RETENTION_OUTBOX_DAYS",
        "each has its delivery workflow in Temporal by then",
    ),
    Kept(
        "idempotency keys and their stored responses",
        "48 hours",
        "RINGSIDE_RETENTION_IDEMPOTENCY_HOURS (≥ 24)",
        "API.md: kept at least 24 h; a key older than this runs as new",
    ),
    Kept(
        "stored responses (Responses API, store: true) and their input items",
        "30 days",
        "RINGSIDE_RETENTION_RESPONSES_DAYS",
        "OpenAI keeps stored responses 30 days; previous_response_id and GET /v1/responses/:id read them",
    ),
    Kept(
        "Assistants API objects (assistants, threads and their messages and runs)",
        "60 days",
        "RINGSIDE_RETENTION_ASSISTANTS_DAYS",
        "OpenAI kept threads 60 days; kept for compatibility (docs/assistants.md)",
    ),
    Kept(
        "vector store query logs (query text, latency, results, asker)",
        "30 days",
        "RINGSIDE_RETENTION_RAG_QUERIES_DAYS",
        "GET /v1/vector_stores/:id/queries and /stats read at most 30 days back",
    ),
    Kept(
        "uploaded files (bytes in the file store; the metadata row)",
        "until deleted",
        "",
        "DELETE /v1/files/:id removes the bytes and detaches the file from every store at once; the row stays, "
        "marked deleted (id, size, dates), beside the usage it caused",
    ),
    Kept(
        "files attached to a deleted vector store",
        "until deleted themselves",
        "",
        "OpenAI's rule: deleting a store detaches its files, it does not delete them",
    ),
    Kept(
        "vector store indexes and cached parses",
        "while their store / a file with that content lives",
        "RINGSIDE_RAG_SWEEP_INTERVAL_S (sweep every 300 s)",
        "deleting a store drops its index at once; the rag role's sweep removes any index, file bytes or "
        "cached parse the core no longer knows (a delete made while the rag role was down, an erasure)",
    ),
    Kept(
        "interrupted uploads (`.partial` files)",
        "1 hour untouched",
        "RINGSIDE_RAG_PARTIAL_UPLOAD_TTL_S",
        "an upload cut off mid-stream; the rag role's sweep removes it, at start and every sweep interval",
    ),
    Kept(
        "an erased customer's personal data",
        "until its holds resolve",
        "",
        "POST /v1/customers/:id/erase removes it; ledger and usage stay under the bare id",
    ),
)


@dataclass(frozen=True, slots=True)
class EventPurge:
    """Forget events created before `created_before`."""

    created_before: int


@dataclass(frozen=True, slots=True)
class IdempotencyPurge:
    """Forget idempotency keys (and their stored responses) created before `created_before`."""

    created_before: int


@dataclass(frozen=True, slots=True)
class StoreQueryPurge:
    """Forget vector store queries made before `created_before`."""

    created_before: int


@dataclass(frozen=True, slots=True)
class UsagePurge:
    """Forget one customer's usage records created before `created_before` (a whole UTC day); their
    sums stay in the daily aggregates."""

    account_id: str
    livemode: bool
    customer_id: str
    created_before: int


@dataclass(frozen=True, slots=True)
class UnattributedUsagePurge:
    """Forget a tenant's unattributed calls' usage records created before `created_before`."""

    account_id: str
    livemode: bool
    created_before: int


@dataclass(frozen=True, slots=True)
class RequestLogPurge:
    """Forget a tenant's request log rows created before `created_before`."""

    account_id: str
    livemode: bool
    created_before: int
