"""Domain records → SQL statements with their parameters, grouped for executemany."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from operator import attrgetter
from typing import Any

import orjson
from sqlalchemy import bindparam, delete, insert, update
from sqlalchemy.sql import Executable

from core.domain.entities import (
    Account,
    AccountUpdate,
    ApiKey,
    ClientTokensRevoked,
    Customer,
    CustomerDeletion,
    CustomerUpdate,
    Hold,
    HoldExtension,
    HoldStateChange,
    IdempotentResponse,
    KeyRevocation,
    LeaseAdmission,
    LeaseExpiry,
    SigningKeyRetirement,
    Slot,
    SlotDeletion,
    Tier,
    TierUpdate,
    Transfer,
    UsageCorrection,
    UsageRecord,
)
from core.domain.requests import RequestLogEntry
from core.domain.webhooks import (
    AttemptPurge,
    DeliveryAttempt,
    Event,
    OutboxEntry,
    OutboxPurge,
    OutboxRelayed,
    WebhookEndpoint,
    WebhookEndpointUpdate,
)
from core.store.assistants import STATEMENTS as ASSISTANT_STATEMENTS
from core.store.batch_records import STATEMENTS as BATCH_STATEMENTS
from core.store.billing_records import STATEMENTS as BILLING_STATEMENTS
from core.store.driver_sql import TupleRows, unnest_update
from core.store.erasure import LATE_STATEMENTS as ERASURE_LATE_STATEMENTS
from core.store.erasure import STATEMENTS as ERASURE_STATEMENTS
from core.store.rag_migrations import STATEMENTS as RAG_MIGRATION_STATEMENTS
from core.store.rag_records import STATEMENTS as RAG_STATEMENTS
from core.store.request_log import REQUEST_LOG_KEYS, entry_values
from core.store.request_log import STATEMENTS as REQUEST_LOG_STATEMENTS
from core.store.responses import STATEMENTS as RESPONSE_STATEMENTS
from core.store.retention import STATEMENTS as RETENTION_STATEMENTS
from core.store.tables import (
    ACCOUNTS,
    API_KEYS,
    CUSTOMERS,
    DELIVERY_ATTEMPTS,
    EVENTS,
    HOLDS,
    IDEMPOTENCY,
    LEASE_ADMISSIONS,
    OUTBOX,
    SIGNING_KEYS,
    SLOTS,
    TIERS,
    TRANSFERS,
    USAGE,
    WEBHOOK_ENDPOINTS,
)
from ringside_server.client_token import SigningKey
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
        **_account_mode_settings(a),
    }


def _account_mode_settings(a: Account) -> dict[str, Any]:
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


def _tier_update_row(t: Tier) -> dict[str, Any]:
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


def _usage_update_row(c: UsageCorrection) -> dict[str, Any]:
    row = usage_row(c.record)
    row["b_request_id"] = row.pop("request_id")
    return row


_TIER_COLUMNS = [c.name for c in TIERS.columns if c.name not in ("id", "account_id", "livemode")]
_CUSTOMER_COLUMNS = [
    c.name
    for c in CUSTOMERS.columns
    # tokens_revoked_before_ms and erasure_status have writes of their own (a PATCH racing a
    # revoke or an erasure must not undo it)
    if c.name
    not in ("id", "account_id", "livemode", "created", "deleted_at", "tokens_revoked_before_ms", "erasure_status")
]


def _customer_update_row(c: Customer) -> dict[str, Any]:
    row = {name: value for name, value in customer_row(c).items() if name in _CUSTOMER_COLUMNS}
    row["b_id"] = c.id
    return row


_USAGE_COLUMNS = [c.name for c in USAGE.columns if c.name != "request_id"]


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


_ENDPOINT_COLUMNS = [c.name for c in WEBHOOK_ENDPOINTS.columns if c.name not in ("id", "account_id", "livemode")]


def _endpoint_update_row(e: WebhookEndpoint) -> dict[str, Any]:
    row = {name: value for name, value in endpoint_row(e).items() if name in _ENDPOINT_COLUMNS}
    row["b_id"] = e.id
    return row


# record type → (statement, row function). Order here is the order of execution within a commit.
_STATEMENTS: dict[type, tuple[Executable, Callable[[Any], dict[str, Any]]]] = {
    Account: (insert(ACCOUNTS), account_row),
    ApiKey: (insert(API_KEYS), key_row),
    Tier: (insert(TIERS), tier_row),
    IdempotentResponse: (insert(IDEMPOTENCY), lambda r: dataclasses.asdict(r)),
    Slot: (
        insert(SLOTS),
        lambda r: {
            "id": r.id,
            "account_id": r.account_id,
            "livemode": r.livemode,
            "name": r.name,
            "model": r.model,
            "created": r.created,
            "deleted_at": None,
        },
    ),
    Customer: (insert(CUSTOMERS), customer_row),
    Hold: (insert(HOLDS), hold_row),
    Transfer: (insert(TRANSFERS), transfer_row),
    UsageRecord: (insert(USAGE), usage_row),
    UsageCorrection: (
        update(USAGE)
        .where(USAGE.c.request_id == bindparam("b_request_id"))
        .values({name: bindparam(name) for name in _USAGE_COLUMNS}),
        _usage_update_row,
    ),
    AccountUpdate: (
        update(ACCOUNTS)
        .where(ACCOUNTS.c.id == bindparam("b_id"))
        .values(
            markup_bp=bindparam("b_markup_bp"),
            auto_create_customers=bindparam("b_auto_create_customers"),
            default_max_output_tokens=bindparam("b_default_max_output_tokens"),
            default_tier_live=bindparam("b_default_tier_live"),
            default_tier_test=bindparam("b_default_tier_test"),
            prepaid_balance_enabled=bindparam("b_prepaid_balance_enabled"),
            low_threshold_pct=bindparam("b_low_threshold_pct"),
            **{name: bindparam("b_" + name) for name in _account_mode_settings(Account("", "", 0))},
        ),
        lambda r: {
            "b_id": r.account.id,
            "b_markup_bp": r.account.markup_bp,
            "b_auto_create_customers": r.account.auto_create_customers,
            "b_default_max_output_tokens": r.account.default_max_output_tokens,
            "b_default_tier_live": r.account.default_tier_live,
            "b_default_tier_test": r.account.default_tier_test,
            "b_prepaid_balance_enabled": r.account.prepaid_balance_enabled,
            "b_low_threshold_pct": r.account.low_threshold_pct,
            **{"b_" + name: value for name, value in _account_mode_settings(r.account).items()},
        },
    ),
    SlotDeletion: (
        update(SLOTS).where(SLOTS.c.id == bindparam("b_id")).values(deleted_at=bindparam("b_deleted_at")),
        lambda r: {"b_id": r.slot_id, "b_deleted_at": r.deleted_at},
    ),
    TierUpdate: (
        update(TIERS).where(TIERS.c.id == bindparam("b_id")).values({name: bindparam(name) for name in _TIER_COLUMNS}),
        lambda r: _tier_update_row(r.tier),
    ),
    CustomerUpdate: (
        update(CUSTOMERS)
        .where(CUSTOMERS.c.id == bindparam("b_id"))
        .values({name: bindparam(name) for name in _CUSTOMER_COLUMNS}),
        lambda r: _customer_update_row(r.customer),
    ),
    ClientTokensRevoked: (
        update(CUSTOMERS)
        .where(CUSTOMERS.c.id == bindparam("b_id"))
        .values(tokens_revoked_before_ms=bindparam("b_before")),
        lambda r: {"b_id": r.customer_id, "b_before": r.before},
    ),
    SigningKey: (insert(SIGNING_KEYS), lambda k: dataclasses.asdict(k)),
    SigningKeyRetirement: (
        update(SIGNING_KEYS).where(SIGNING_KEYS.c.kid == bindparam("b_kid")).values(retired_at=bindparam("b_at")),
        lambda r: {"b_kid": r.kid, "b_at": r.retired_at},
    ),
    CustomerDeletion: (
        update(CUSTOMERS).where(CUSTOMERS.c.id == bindparam("b_id")).values(deleted_at=bindparam("b_deleted_at")),
        lambda r: {"b_id": r.customer_id, "b_deleted_at": r.deleted_at},
    ),
    HoldStateChange: (
        update(HOLDS)
        .where(HOLDS.c.id == bindparam("b_id"))
        .values(state=bindparam("b_state"), resolved_at=bindparam("b_resolved_at")),
        lambda r: {"b_id": r.hold_id, "b_state": r.state, "b_resolved_at": r.resolved_at},
    ),
    LeaseAdmission: (insert(LEASE_ADMISSIONS), lambda r: dataclasses.asdict(r)),
    LeaseExpiry: (
        update(HOLDS)
        .where(HOLDS.c.id == bindparam("b_id"))
        .values(slots_released_unreported=bindparam("b_unreported")),
        lambda r: {"b_id": r.hold_id, "b_unreported": r.slots_released_unreported},
    ),
    HoldExtension: (
        update(HOLDS).where(HOLDS.c.id == bindparam("b_id")).values(expires_at=bindparam("b_expires_at")),
        lambda r: {"b_id": r.hold_id, "b_expires_at": r.expires_at},
    ),
    KeyRevocation: (
        update(API_KEYS).where(API_KEYS.c.id == bindparam("b_id")).values(revoked_at=bindparam("b_revoked_at")),
        lambda r: {"b_id": r.key_id, "b_revoked_at": r.revoked_at},
    ),
    WebhookEndpoint: (insert(WEBHOOK_ENDPOINTS), endpoint_row),
    WebhookEndpointUpdate: (
        update(WEBHOOK_ENDPOINTS)
        .where(WEBHOOK_ENDPOINTS.c.id == bindparam("b_id"))
        .values({name: bindparam(name) for name in _ENDPOINT_COLUMNS}),
        lambda r: _endpoint_update_row(r.endpoint),
    ),
    Event: (insert(EVENTS), lambda r: dataclasses.asdict(r)),
    OutboxEntry: (insert(OUTBOX), lambda r: {**dataclasses.asdict(r), "relayed_at": None}),
    OutboxRelayed: (
        update(OUTBOX).where(OUTBOX.c.id == bindparam("b_id")).values(relayed_at=bindparam("b_relayed_at")),
        lambda r: {"b_id": r.outbox_id, "b_relayed_at": r.relayed_at},
    ),
    DeliveryAttempt: (insert(DELIVERY_ATTEMPTS), lambda r: dataclasses.asdict(r)),
    OutboxPurge: (
        delete(OUTBOX).where(OUTBOX.c.relayed_at < bindparam("b_before")),
        lambda r: {"b_before": r.relayed_before},
    ),
    AttemptPurge: (
        delete(DELIVERY_ATTEMPTS).where(DELIVERY_ATTEMPTS.c.created < bindparam("b_before")),
        lambda r: {"b_before": r.created_before},
    ),
}
_STATEMENTS.update(BILLING_STATEMENTS)  # after every other record: they refer to none
_STATEMENTS.update(ERASURE_STATEMENTS)  # after the events and responses they rewrite
_STATEMENTS.update(RAG_STATEMENTS)  # files refer to customers, written before them
_STATEMENTS.update(ERASURE_LATE_STATEMENTS)  # an erasure's query-log deletions after the inserts they catch
_STATEMENTS.update(RAG_MIGRATION_STATEMENTS)  # a migration's row beside the store's swap
_STATEMENTS.update(RETENTION_STATEMENTS)
_STATEMENTS.update(RESPONSE_STATEMENTS)  # a stored response's insert before its erasure or purge
_STATEMENTS.update(ASSISTANT_STATEMENTS)  # an object's insert before its update, deletion or erasure
_STATEMENTS.update(REQUEST_LOG_STATEMENTS)
_STATEMENTS.update(BATCH_STATEMENTS)  # after the files a finished batch records
_ORDER = {record_type: index for index, record_type in enumerate(_STATEMENTS)}


# The records a settle writes several of: their rows are tuples in these keys' order (TupleRows),
# the same values as their row functions' dicts.
_TUPLE_ROWS: dict[type, tuple[tuple[str, ...], Callable[[Any], tuple[Any, ...]]]] = {
    Transfer: (TRANSFER_KEYS, transfer_values),
    UsageRecord: (USAGE_KEYS, usage_values),
    HoldStateChange: (("b_state", "b_resolved_at", "b_id"), attrgetter("state", "resolved_at", "hold_id")),
    # a lease's reported calls (16 a lease in the bench): dataclasses.asdict's deep copy was a tenth
    # of the SQLite writer's samples; the fields are the columns, flat values
    LeaseAdmission: (LEASE_ADMISSION_KEYS, attrgetter(*LEASE_ADMISSION_KEYS)),
    # one per model call (the request log), the entry's fields are the columns
    RequestLogEntry: (REQUEST_LOG_KEYS, entry_values),
}
# PostgreSQL runs a commit's hold state changes as one UPDATE … FROM unnest (driver_sql.execute_many).
unnest_update(
    _STATEMENTS[HoldStateChange][0], HOLDS, {"b_state": "state", "b_resolved_at": "resolved_at"}, ("b_id", "id")
)


def grouped_statements(records: Iterable[object]) -> list[tuple[Executable, list[Any]]]:
    """One (statement, rows) pair per record type, in dependency order, ready for executemany
    (`driver_sql.execute_many`): rows are dicts, or a TupleRows for the types of _TUPLE_ROWS."""
    # The group commit's own loop (thousands of records a commit): the lookups stay local.
    groups: dict[type, list[Any]] = {}
    makers: dict[type, Callable[[Any], Any]] = {}
    statements = _STATEMENTS
    for record in records:
        record_type = type(record)
        group = groups.get(record_type)
        if group is None:
            if record_type not in statements:
                raise TypeError(f"no statement for {record_type.__name__}")
            tupled = _TUPLE_ROWS.get(record_type)
            if tupled is not None:
                group = groups[record_type] = TupleRows(tupled[0])
                makers[record_type] = tupled[1]
            else:
                group = groups[record_type] = []
                makers[record_type] = statements[record_type][1]
        group.append(makers[record_type](record))
    return [(_STATEMENTS[t][0], rows) for t, rows in sorted(groups.items(), key=lambda item: _ORDER[item[0]])]
