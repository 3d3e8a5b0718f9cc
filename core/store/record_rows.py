"""Domain records → table rows: the dicts (and, for the group commit's hot records, the tuples in
column order) that core/store/records.py's statements take."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from operator import attrgetter
from typing import Any

import orjson

from core.domain.entities import Account, ApiKey, Customer, Hold, Tier, Transfer, UsageCorrection, UsageRecord
from core.domain.webhooks import WebhookEndpoint
from core.store.tables import CUSTOMERS, LEASE_ADMISSIONS, TIERS, TRANSFERS, USAGE, WEBHOOK_ENDPOINTS
from ringside_server.money import Usage


def models_json(entries: tuple[str, ...] | None) -> str | None:
    """An allowed_models list as stored: NULL for null (every model), else a JSON array."""
    return None if entries is None else orjson.dumps(list(entries)).decode()


def models_from_json(stored: str | None) -> tuple[str, ...] | None:
    loaded = orjson.loads(stored) if stored is not None else None
    return tuple(loaded) if isinstance(loaded, list) else None


def customer_models_json(c: Customer) -> str | None:
    """A customer's own list: NULL when it inherits, the JSON `null` when explicitly every model."""
    if not c.allowed_models_explicit:
        return None
    return "null" if c.allowed_models is None else models_json(c.allowed_models)


def account_row(a: Account) -> dict[str, Any]:
    return {
        "id": a.id,
        "name": a.name,
        "created": a.created,
        "markup_bp": a.markup_bp,
        "auto_create_customers": a.auto_create_customers,
        "default_tier_live": a.default_tier_live,
        "default_tier_test": a.default_tier_test,
        "default_max_output_tokens": a.default_max_output_tokens,
        "prepaid_balance_enabled": a.prepaid_balance_enabled,
        "low_threshold_pct": a.low_threshold_pct,
        **account_mode_settings(a),
    }


def account_mode_settings(a: Account) -> dict[str, Any]:
    return {
        "require_customer_live": a.require_customer_live,
        "require_customer_test": a.require_customer_test,
        "bare_model_provider_live": a.bare_model_provider_live,
        "bare_model_provider_test": a.bare_model_provider_test,
    }


def tier_row(t: Tier) -> dict[str, Any]:
    return {
        "id": t.id,
        "account_id": t.account_id,
        "livemode": t.livemode,
        "name": t.name,
        "budget_nano": t.budget_nano,
        "rate_limit_rpm": t.rate_limit_rpm,
        "rate_limit_tpm": t.rate_limit_tpm,
        "markup_bp": t.markup_bp,
        "created": t.created,
        "deleted_at": t.deleted_at,
        "allowed_models_json": models_json(t.allowed_models),
    }


def tier_update_row(t: Tier) -> dict[str, Any]:
    row = {name: value for name, value in tier_row(t).items() if name not in ("id", "account_id", "livemode")}
    row["b_id"] = t.id
    return row


def key_row(k: ApiKey) -> dict[str, Any]:
    return {
        "id": k.id,
        "account_id": k.account_id,
        "livemode": k.livemode,
        "name": k.name,
        "scopes": " ".join(sorted(k.scopes)),
        "secret_hash": k.secret_hash,
        "redacted": k.redacted,
        "created": k.created,
        "revoked_at": k.revoked_at,
        "allowed_models_json": models_json(k.allowed_models),
    }


def customer_row(c: Customer) -> dict[str, Any]:
    return {
        "id": c.id,
        "account_id": c.account_id,
        "livemode": c.livemode,
        "external_id": c.external_id,
        "name": c.name,
        "email": c.email,
        "metadata_json": orjson.dumps(c.metadata).decode(),
        "budget_nano": c.budget_nano,
        "budget_explicit": c.budget_explicit,
        "rate_limit_rpm": c.rate_limit_rpm,
        "rate_limit_tpm": c.rate_limit_tpm,
        "blocked": c.blocked,
        "billing_anchor_day": c.billing_anchor_day,
        "wallet_enabled": c.wallet_enabled,
        "wallet_low_threshold_nano": c.wallet_low_threshold_nano,
        "stripe_customer_id": c.stripe_customer_id,
        "tier_id": c.tier_id,
        "created": c.created,
        "deleted_at": None,
        "tokens_revoked_before_ms": c.tokens_revoked_before_ms,
        "erasure_status": c.erasure,
        "allowed_models_json": customer_models_json(c),
    }


def hold_row(h: Hold) -> dict[str, Any]:
    return {
        "id": h.id,
        "account_id": h.account_id,
        "livemode": h.livemode,
        "customer_id": h.customer_id,
        "payer": h.payer,
        "revenue": h.revenue,
        "amount_nano": h.amount_nano,
        "period_start": h.period_start,
        "created": h.created,
        "expires_at": h.expires_at,
        "provider": h.provider,
        "model_ref": h.model_ref,
        # orjson writes a dataclass as asdict would, without its deep copy
        "price_json": orjson.dumps(h.price).decode(),
        "markup_bp": h.markup_bp,
        "kind": h.kind,
        "prepaid_nano": h.prepaid_nano,
        "state": "open",
        "resolved_at": None,
        "lease_calls": h.lease_calls,
        "slots_released_unreported": None,
        "output_tokens": h.output_tokens,
        "lease_tokens": h.lease_tokens,
    }


def transfer_row(t: Transfer) -> dict[str, Any]:
    # Explicit rather than dataclasses.asdict, which deep-copies: this runs for every transfer.
    return {
        "id": t.id,
        "account_id": t.account_id,
        "livemode": t.livemode,
        "debit": t.debit,
        "credit": t.credit,
        "amount_nano": t.amount_nano,
        "kind": t.kind,
        "request_id": t.request_id,
        "period_start": t.period_start,
        "created": t.created,
        "pending_id": t.pending_id,
        "hold_id": t.hold_id,
        "memo": t.memo,
    }


def usage_row(u: UsageRecord) -> dict[str, Any]:
    tokens = u.usage
    return {
        "request_id": u.request_id,
        "account_id": u.account_id,
        "livemode": u.livemode,
        "customer_id": u.customer_id,
        "provider": u.provider,
        "model_ref": u.model_ref,
        "upstream_model": u.upstream_model,
        "cost_nano": u.cost_nano,
        "billable_nano": u.billable_nano,
        "posted_nano": u.posted_nano,
        "unbilled_nano": u.unbilled_nano,
        "status": u.status,
        "usage_estimated": u.usage_estimated,
        "period_start": u.period_start,
        "created": u.created,
        "hold_id": u.hold_id,
        "input_tokens": tokens.input_tokens,
        "cached_input_tokens": tokens.cached_input_tokens,
        "cache_write_tokens": tokens.cache_write_tokens,
        "output_tokens": tokens.output_tokens,
        "reasoning_tokens": tokens.reasoning_tokens,
        "audio_input_tokens": tokens.audio_input_tokens,
        "audio_output_tokens": tokens.audio_output_tokens,
        "image_input_tokens": tokens.image_input_tokens,
    }


# The tables' column order, so the driver takes the tuples as they are (no reordering per row).
TRANSFER_KEYS = tuple(column.name for column in TRANSFERS.columns)
# `transfer_row(t)`'s values in TRANSFER_KEYS order, in one C call (the group commit's rows).
transfer_values: Callable[[Transfer], tuple[Any, ...]] = attrgetter(*TRANSFER_KEYS)
_TOKENS = {field.name for field in dataclasses.fields(Usage)}
USAGE_KEYS = tuple(column.name for column in USAGE.columns)
LEASE_ADMISSION_KEYS = tuple(column.name for column in LEASE_ADMISSIONS.columns)
# `usage_row(u)`'s values in USAGE_KEYS order; the token counts are the record's `usage`'s.
usage_values: Callable[[UsageRecord], tuple[Any, ...]] = attrgetter(
    *(f"usage.{name}" if name in _TOKENS else name for name in USAGE_KEYS)
)


def usage_update_row(c: UsageCorrection) -> dict[str, Any]:
    row = usage_row(c.record)
    row["b_request_id"] = row.pop("request_id")
    return row


TIER_COLUMNS = [c.name for c in TIERS.columns if c.name not in ("id", "account_id", "livemode")]
CUSTOMER_COLUMNS = [
    c.name
    for c in CUSTOMERS.columns
    # tokens_revoked_before_ms and erasure_status have writes of their own (a PATCH racing a
    # revoke or an erasure must not undo it)
    if c.name
    not in ("id", "account_id", "livemode", "created", "deleted_at", "tokens_revoked_before_ms", "erasure_status")
]


def customer_update_row(c: Customer) -> dict[str, Any]:
    row = {name: value for name, value in customer_row(c).items() if name in CUSTOMER_COLUMNS}
    row["b_id"] = c.id
    return row


USAGE_COLUMNS = [c.name for c in USAGE.columns if c.name != "request_id"]


def endpoint_row(e: WebhookEndpoint) -> dict[str, Any]:
    return {
        "id": e.id,
        "account_id": e.account_id,
        "livemode": e.livemode,
        "url": e.url,
        "events_json": orjson.dumps(e.events).decode(),
        "description": e.description,
        "secret": e.secret,
        "previous_secret": e.previous_secret,
        "previous_secret_expires_at": e.previous_secret_expires_at,
        "enabled": e.enabled,
        "failing_since": e.failing_since,
        "created": e.created,
        "deleted_at": e.deleted_at,
    }


ENDPOINT_COLUMNS = [c.name for c in WEBHOOK_ENDPOINTS.columns if c.name not in ("id", "account_id", "livemode")]


def endpoint_update_row(e: WebhookEndpoint) -> dict[str, Any]:
    row = {name: value for name, value in endpoint_row(e).items() if name in ENDPOINT_COLUMNS}
    row["b_id"] = e.id
    return row
