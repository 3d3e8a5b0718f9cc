"""The request log (`GET /v1/requests`): one entry per model call an edge answered after
authentication and validation — served, failed upstream, or refused (402, 403, 429) — read beside
the usage record of the calls that were admitted (API.md "Usage")."""

from __future__ import annotations

from dataclasses import dataclass

MAX_ENTRIES = 1000  # per RecordRequests
LISTED_STATUSES = (402, 403, 429)  # refusals that are listed: budget, wallet, block, models, rate limits

# A usage record's status → how the call was settled (API.md "Usage": settled_by).
SETTLED_BY = {
    "completed": "call",
    "aborted": "call",
    "failed": "call",
    "late_completed": "call",
    "late_aborted": "call",
    "late_failed": "call",
    "expired": "expiry",
    "lease_released": "lease_release",
    "lease_expired": "lease_release",
}


@dataclass(frozen=True, slots=True)
class RequestLogEntry:
    """A finished call as its edge saw it (no prompt, no completion)."""

    request_id: str
    account_id: str
    livemode: bool
    customer_id: str | None
    route: str
    model: str
    resolved_model: str
    status: int
    error_code: str
    latency_ms: int
    created: int
    created_ms: int  # orders the calls of one second


@dataclass(frozen=True, slots=True)
class RequestQuery:
    customer_id: str | None  # None: every customer
    model: str
    status: int
    since: int
    until: int
    limit: int
    starting_after: str
    ending_before: str


@dataclass(frozen=True, slots=True)
class RequestRow:
    """A row of the list: the edge's entry and the call's usage record, either possibly absent."""

    request_id: str
    customer_id: str | None
    route: str
    model: str
    resolved_model: str
    status: int  # 0: unknown (the edge died before recording it)
    error_code: str
    input_tokens: int
    output_tokens: int
    cost_nano: int
    billable_nano: int
    latency_ms: int  # -1: unknown
    settled_by: str  # "" for a refusal
    created: int
