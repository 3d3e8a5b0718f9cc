"""Typed views of Ringside's own objects (API.md), as pydantic models.

Fields the API documents are typed; anything newer the server adds is kept (`extra="allow"`) so an
older SDK never drops data. USD amounts are `Decimal`: the API speaks them exact to 9 decimals.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = [
    "APIKey",
    "Account",
    "AccountSettings",
    "ClientToken",
    "ClientTokenRevocation",
    "Customer",
    "CustomerWallet",
    "Deleted",
    "Event",
    "Identified",
    "RingsideObject",
    "Slot",
    "StripeSettings",
    "StripeSync",
    "Tier",
    "Usage",
    "UsageRow",
    "Wallet",
    "WalletTransaction",
    "WalletTransactions",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookRedelivery",
]


class RingsideObject(BaseModel):
    """Base of every object: unknown fields are kept, readable as attributes."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Identified(RingsideObject):
    """An object with an id (what a list can page after)."""

    id: str


class Deleted(RingsideObject):
    id: str
    object: str
    deleted: bool


class CustomerWallet(RingsideObject):
    enabled: bool = False
    balance_usd: Decimal = Decimal(0)
    low_threshold_usd: Decimal | None = None


class Customer(Identified):
    object: str = "customer"
    livemode: bool = False
    external_id: str | None = None
    name: str | None = None
    email: str | None = None
    metadata: dict[str, Any] = {}
    budget_usd: Decimal | None = None
    rate_limit_rpm: int | None = None
    rate_limit_tpm: int | None = None
    allowed_models: list[str] | None = None
    blocked: bool = False
    tier_id: str | None = None
    billing_anchor_day: int | None = None
    stripe_customer_id: str | None = None
    spend_usd_mtd: Decimal = Decimal(0)
    request_count_mtd: int = 0
    budget_status: str | None = None
    period_start: int | None = None
    period_end: int | None = None
    wallet: CustomerWallet | None = None
    created: int | None = None


class WalletTransaction(Identified):
    object: str = "wallet_transaction"
    type: str
    amount_usd: Decimal
    balance_after_usd: Decimal
    request_id: str | None = None
    description: str | None = None
    created: int


class WalletTransactions(RingsideObject):
    object: str = "list"
    data: list[WalletTransaction] = []
    has_more: bool = False


class Wallet(RingsideObject):
    """`GET /v1/customers/:id/wallet`; `transactions` is its first page (newest first)."""

    object: str = "wallet"
    enabled: bool
    balance_usd: Decimal
    held_usd: Decimal | None = None
    low_threshold_usd: Decimal | None = None
    transactions: WalletTransactions = WalletTransactions()


class UsageRow(RingsideObject):
    date: str | None = None
    model: str | None = None
    customer_id: str | None = None
    total_cost_usd: Decimal = Decimal(0)
    total_billable_usd: Decimal = Decimal(0)
    total_margin_usd: Decimal = Decimal(0)
    request_count: int = 0
    input_tokens: int = 0
    output_tokens: int = 0


class Usage(RingsideObject):
    object: str = "usage"
    total_cost_usd: Decimal
    total_billable_usd: Decimal
    total_margin_usd: Decimal
    request_count: int
    input_tokens: int
    output_tokens: int
    data: list[UsageRow] = []
    has_more: bool = False


class Tier(Identified):
    object: str = "tier"
    livemode: bool = False
    name: str
    budget_usd: Decimal | None = None
    rate_limit_rpm: int | None = None
    rate_limit_tpm: int | None = None
    markup_pct: Decimal | None = None
    allowed_models: list[str] | None = None
    created: int | None = None


class Slot(Identified):
    object: str = "slot"
    livemode: bool = False
    name: str
    model: str
    models: list[str] = []
    created: int | None = None


class WebhookEndpoint(Identified):
    object: str = "webhook_endpoint"
    livemode: bool = False
    url: str
    events: list[str] = []
    description: str | None = None
    status: str | None = None
    secret: str | None = None
    """Shown once, at create and rotate; None otherwise and in an idempotent replay."""
    previous_secret_expires_at: int | None = None
    created: int | None = None


class WebhookDelivery(Identified):
    object: str = "webhook_delivery_attempt"
    endpoint_id: str | None = None
    event_id: str
    event_type: str | None = None
    attempt: int | None = None
    status: str
    http_status: int | None = None
    latency_ms: int | None = None
    error: str | None = None
    next_retry_at: int | None = None
    created: int


class WebhookRedelivery(Identified):
    object: str = "webhook_redelivery"
    event_id: str
    endpoint_id: str | None = None


class Event(Identified):
    object: str = "event"
    api_version: str | None = None
    type: str
    created: int
    livemode: bool = False
    data: dict[str, Any] = {}


class ClientToken(RingsideObject):
    id: str | None = None
    object: str = "client_token"
    token: str | None = None
    """The JWT for `Authorization: Client <token>`; None in an idempotent replay."""
    customer_id: str | None = None
    origin: str | None = None
    ip: str | None = None
    allowed_endpoints: list[str] = []
    created: int | None = None
    expires_at: int


class ClientTokenRevocation(RingsideObject):
    object: str = "client_token_revocation"
    revoked_before: float


class APIKey(Identified):
    object: str = "api_key"
    livemode: bool = False
    name: str | None = None
    scopes: list[str] = []
    allowed_models: list[str] | None = None
    redacted: str | None = None
    secret: str | None = None
    """The key itself, shown once at create; None otherwise."""
    created: int | None = None


class AccountSettings(RingsideObject):
    """`GET/PATCH /v1/account`: the calling key's account, in the key's mode."""

    id: str
    object: str = "account"
    livemode: bool = False
    auto_create_customers: bool = False
    default_tier_id: str | None = None
    markup_pct: Decimal = Decimal(0)
    low_threshold_pct: int | None = None
    prepaid_balance_enabled: bool = False
    balance_usd: Decimal | None = None
    default_max_output_tokens: int | None = None
    # None when the server does not report the setting (older servers)
    require_customer: bool | None = None
    bare_model_provider: str | None = None


Account = AccountSettings


class StripeSettings(RingsideObject):
    object: str = "stripe_settings"
    livemode: bool = False
    secret_key: str | None = None
    meter_event_name: str | None = None
    value: str | None = None
    updated: int | None = None


class StripeSync(Identified):
    object: str = "stripe_sync"
    status: str
    pushed: int = 0
    failed: int = 0
    started: int | None = None
    finished: int | None = None
