"""The core's objects: accounts, API keys, customers, holds; and the records it persists.

Entities carry their durable fields and, for customers, the hot counters the core keeps in memory
(spend of the current period, open holds) that are derived from the ledger at start-up.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Literal

from core.domain.ratelimit import Charge
from ringside_server.ids import random_token
from ringside_server.money import Price, Usage
from ringside_server.record import record

SCOPES: tuple[str, ...] = ("api:read", "api:write", "api:webhooks", "api:admin")

# A hold reserves for one call; a lease for several calls an edge admits on its own (see Hold).
HoldKind = Literal["call", "lease"]
# A hold's life in the database: open until settled (a call), closed (a lease) or expired.
HoldState = Literal["open", "settled", "closed", "expired"]
# How a call ended, as the edge reports it at settle.
Outcome = Literal["completed", "aborted", "failed"]
OUTCOMES: tuple[Outcome, ...] = ("completed", "aborted", "failed")
# A usage record's status: the call's outcome, how its hold expired, or a late settle's outcome.
# `expired`: a per-call hold posted at its TTL; `lease_released`: a call a dead edge had reported
# admitted under a lease, posted at its estimate when the lease expired (API.md "Usage", settled_by);
# `lease_expired`: a lease's remainder posted at expiry before admissions were reported (old rows).
UsageStatus = Literal[
    "completed",
    "aborted",
    "failed",
    "expired",
    "lease_released",
    "lease_expired",
    "late_completed",
    "late_aborted",
    "late_failed",
]
LATE: dict[Outcome, UsageStatus] = {"completed": "late_completed", "aborted": "late_aborted", "failed": "late_failed"}
# Usage statuses that are not requests a customer made (a failed call, a lease's expiry record).
NOT_REQUESTS: tuple[UsageStatus, ...] = ("failed", "lease_expired")
# Transfer kinds (see Transfer); wallet and prepaid movements name what moved the money.
TransferKind = Literal[
    "pending",
    "post",
    "lease_post",
    "release",
    "expire",
    "correction",
    "cost",
    "topup",
    "adjust",
    "refund",
    "prepaid_debit",
    "prepaid_refund",
    "prepaid_topup",
]


def mode_name(livemode: bool) -> str:
    return "live" if livemode else "test"


def hash_secret(secret: str) -> str:
    """Keys are stored as SHA-256 of the secret: high-entropy secrets need no slow hash."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret(livemode: bool) -> str:
    return f"sk_{mode_name(livemode)}_{random_token(40)}"


def has_scope(scopes: frozenset[str], needed: str) -> bool:
    """api:write includes api:read (API.md "API keys")."""
    return needed in scopes or (needed == "api:read" and "api:write" in scopes)


@dataclass(slots=True)
class PrepaidBalance:
    """An account's own prepaid balance (live mode) in memory: the ledger's balance and what open
    holds reserved of it. Kept apart from Account, whose object a settings update replaces."""

    balance_nano: int = 0
    held_nano: int = 0

    @property
    def room_nano(self) -> int:
        return max(0, self.balance_nano - self.held_nano)


@dataclass(slots=True)
class Account:
    id: str
    name: str
    created: int
    markup_bp: int = 0
    auto_create_customers: bool = False
    default_max_output_tokens: int | None = None
    # The tier customers with no explicit limits and no tier of their own inherit, per mode.
    default_tier_live: str | None = None
    default_tier_test: str | None = None
    # Live calls draw on the account's own prepaid balance (funded by the operator); 402 wallet_empty.
    prepaid_balance_enabled: bool = False
    # wallet.low (trigger budget_threshold) fires when posted spend crosses this share of the budget.
    low_threshold_pct: int = 80
    # Per mode (API.md "Account settings"): a metered call must name a customer (400 customer_required).
    require_customer_live: bool = False
    require_customer_test: bool = False
    # Per mode: the provider a bare model name means (None: a bare name is 400 invalid_model_ref).
    bare_model_provider_live: str | None = None
    bare_model_provider_test: str | None = None

    def default_tier(self, livemode: bool) -> str | None:
        return self.default_tier_live if livemode else self.default_tier_test

    def require_customer(self, livemode: bool) -> bool:
        return self.require_customer_live if livemode else self.require_customer_test

    def bare_model_provider(self, livemode: bool) -> str | None:
        return self.bare_model_provider_live if livemode else self.bare_model_provider_test


@dataclass(slots=True)
class ApiKey:
    id: str
    account_id: str
    livemode: bool
    name: str
    scopes: frozenset[str]
    secret_hash: str
    redacted: str
    created: int
    revoked_at: int | None = None
    allowed_models: tuple[str, ...] | None = None  # None: every model (API.md "Governance")


@dataclass(slots=True)
class Customer:
    id: str
    account_id: str
    livemode: bool
    external_id: str | None
    name: str
    email: str
    metadata: dict[str, Any]
    budget_nano: int | None
    budget_explicit: bool
    rate_limit_rpm: int | None
    rate_limit_tpm: int | None
    blocked: bool
    billing_anchor_day: int
    wallet_enabled: bool
    wallet_low_threshold_nano: int
    created: int
    stripe_customer_id: str = ""
    tier_id: str = ""
    tokens_revoked_before_ms: int = 0  # Client Tokens issued before this (unix ms) are revoked
    erasure: str = ""  # "pending": blocked until its holds resolve, then erased (core/domain/erasure.py)
    # Its own allowed_models when explicit (None then: every model); else its tier's apply.
    allowed_models: tuple[str, ...] | None = None
    allowed_models_explicit: bool = False
    # Hot counters, derived from the ledger at start-up and kept in step with every write.
    period_start: int = 0
    spent_nano: int = 0
    request_count: int = 0
    held_nano: int = 0
    wallet_balance_nano: int = 0
    budget_exceeded_period: int = -1
    # Edge-trigger marks of the threshold events (core/domain/events.py).
    low_budget_key: tuple[int, int] | None = None
    wallet_low_fired: bool = False
    wallet_empty_fired: bool = False
    # Postings planned but not applied yet (events.py counts them so concurrent plans see each other).
    unapplied_spend_nano: int = 0
    spend_seen_nano: int = 0
    spend_seen_period: int = -1
    # True from an auto-creation until the first call's records take the customer's row along.
    unsaved: bool = False

    def roll_period(self, period_start: int) -> None:
        """Start counting a new period: the period is a function of the clock, not of a job."""
        if period_start != self.period_start:
            self.period_start = period_start
            self.spent_nano = 0
            self.request_count = 0

    @property
    def budget_exceeded(self) -> bool:
        return self.budget_exceeded_period == self.period_start


@dataclass(slots=True)
class Hold:
    """A reservation (pending transfer) for one call, posted or expired exactly once."""

    id: str
    account_id: str
    livemode: bool
    customer_id: str | None
    payer: str
    revenue: str
    amount_nano: int
    period_start: int
    created: int
    expires_at: int
    provider: str
    model_ref: str
    price: Price
    markup_bp: int
    settling: bool = False
    # "call": one call's hold. "lease": a slice of room an edge admits several calls against; its
    # calls post against it one by one (consumed), the rest is released at close or posted at expiry.
    kind: HoldKind = "call"
    consumed_nano: int = 0
    reported: set[str] = field(default_factory=set)
    # Its rate-limit charge (in memory only), set right when the call or lease was admitted; a
    # lease's calls add up what they really used, which the charge shrinks to at close.
    rate_charge: Charge | None = None
    rate_requests_used: int = 0
    rate_tokens_used: int = 0
    # What it reserved of its account's prepaid balance: the provider-cost bound of the call.
    prepaid_nano: int = 0
    # A lease: the calls it may admit, and those its edge reported admitted and not yet finished
    # (by request id), which its expiry posts at their estimates.
    lease_calls: int = 0
    admitted: dict[str, LeaseAdmission] = field(default_factory=dict)
    # What its first answer carried beyond the amount, for a repeat under the caller's id (a call:
    # the output bound per choice; a lease: the tokens its calls may take, 0 = not limited).
    # 0 on a hold written before they were kept (a call's bound is then derived from its amount).
    output_tokens: int = 0
    lease_tokens: int = 0

    @property
    def remaining_nano(self) -> int:
        return self.amount_nano - self.consumed_nano


@record
class Transfer:
    """An immutable double-entry movement: `amount_nano` from `debit` to `credit`.

    kinds: pending (a hold or a lease), post (a hold's settle, ≤ its amount), lease_post (one call
    under a lease, ≤ its estimate; `hold_id` names the lease), release (a lease closed: its unused
    rest freed), expire (a hold posted at its reserved amount, a lease at its unreported rest),
    correction (a late settle's refund of the difference), cost (provider cost).
    """

    id: str
    account_id: str
    livemode: bool
    debit: str
    credit: str
    amount_nano: int
    kind: TransferKind
    request_id: str
    period_start: int
    created: int
    pending_id: str | None = None
    hold_id: str | None = None
    memo: str = ""


@record
class UsageRecord:
    request_id: str
    account_id: str
    livemode: bool
    customer_id: str | None
    provider: str
    model_ref: str
    upstream_model: str
    usage: Usage
    cost_nano: int
    billable_nano: int
    posted_nano: int
    unbilled_nano: int
    status: UsageStatus
    usage_estimated: bool
    period_start: int
    created: int
    hold_id: str | None = None


@dataclass(frozen=True, slots=True)
class UsageCorrection:
    """A late settle's actual usage replacing the expiry's placeholder record of the same call."""

    record: UsageRecord


@dataclass(slots=True)
class Tier:
    """Limits many customers share (`tier_…`); a customer's own explicit values win over its tier's."""

    id: str
    account_id: str
    livemode: bool
    name: str
    budget_nano: int | None
    rate_limit_rpm: int | None
    rate_limit_tpm: int | None
    markup_bp: int | None
    created: int
    deleted_at: int | None = None
    allowed_models: tuple[str, ...] | None = None  # None: every model


@dataclass(slots=True)
class Slot:
    """A name standing for a model ref (`slot:<name>`; a bare name on the peer proxy's routes)."""

    id: str
    account_id: str
    livemode: bool
    name: str
    model: str
    created: int
    deleted_at: int | None = None


@dataclass(frozen=True, slots=True)
class SlotDeletion:
    slot_id: str
    deleted_at: int


@dataclass(frozen=True, slots=True)
class IdempotentResponse:
    account_id: str
    livemode: bool
    route: str
    key: str
    request_hash: str
    status: int
    body: bytes
    created: int


@dataclass(frozen=True, slots=True)
class TierUpdate:
    tier: Tier


@dataclass(frozen=True, slots=True)
class AccountUpdate:
    """An account's settings after a PATCH."""

    account: Account


@dataclass(frozen=True, slots=True)
class CustomerUpdate:
    """A customer's durable fields after a PATCH (the whole row is rewritten)."""

    customer: Customer


@dataclass(frozen=True, slots=True)
class ClientTokensRevoked:
    customer_id: str
    before: int


@dataclass(frozen=True, slots=True)
class SigningKeyRetirement:
    kid: str
    retired_at: int


@dataclass(frozen=True, slots=True)
class CustomerDeletion:
    customer_id: str
    deleted_at: int


@record
class HoldStateChange:
    hold_id: str
    state: HoldState
    resolved_at: int


@record
class LeaseAdmission:
    """A call an edge reported admitted under a lease, before it finished."""

    request_id: str
    lease_id: str
    model_ref: str
    provider: str
    estimate_nano: int
    created: int


@dataclass(frozen=True, slots=True)
class LeaseExpiry:
    """An expired lease: how many of its slots it released with no call reported in them."""

    hold_id: str
    slots_released_unreported: int


@dataclass(frozen=True, slots=True)
class HoldExtension:
    hold_id: str
    expires_at: int


@dataclass(frozen=True, slots=True)
class KeyRevocation:
    key_id: str
    revoked_at: int


@record
class SettleResult:
    cost_nano: int
    billable_nano: int
    posted_nano: int
    unbilled_nano: int
    late: bool = False
    wallet_balance_nano: int | None = None
    replayed: bool = False


@dataclass(slots=True)
class Denial:
    code: str
    message: str
    param: str | None = None
    retry_after_seconds: int = 0
    should_retry: bool = False
    retry_after_ms: int = 0
    # Events the refusal fires (customer.budget_exceeded, wallet.empty), to persist before answering.
    records: list[object] = field(default_factory=list)
    # A rate-limit refusal that open leases' unsure slots alone cause: they are known by then
    # (core/domain/ratelimit.py), and the core decides again before answering.
    settles_by: float | None = None
