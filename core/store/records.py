"""Domain records → SQL statements with their parameters, grouped for executemany."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from operator import attrgetter
from typing import Any

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
from core.store.record_rows import (
    CUSTOMER_COLUMNS,
    ENDPOINT_COLUMNS,
    LEASE_ADMISSION_KEYS,
    TIER_COLUMNS,
    TRANSFER_KEYS,
    USAGE_COLUMNS,
    USAGE_KEYS,
    account_mode_settings,
    account_row,
    customer_row,
    customer_update_row,
    endpoint_row,
    endpoint_update_row,
    hold_row,
    key_row,
    tier_row,
    tier_update_row,
    transfer_row,
    transfer_values,
    usage_row,
    usage_update_row,
    usage_values,
)
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
        .values({name: bindparam(name) for name in USAGE_COLUMNS}),
        usage_update_row,
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
            **{name: bindparam("b_" + name) for name in account_mode_settings(Account("", "", 0))},
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
            **{"b_" + name: value for name, value in account_mode_settings(r.account).items()},
        },
    ),
    SlotDeletion: (
        update(SLOTS).where(SLOTS.c.id == bindparam("b_id")).values(deleted_at=bindparam("b_deleted_at")),
        lambda r: {"b_id": r.slot_id, "b_deleted_at": r.deleted_at},
    ),
    TierUpdate: (
        update(TIERS).where(TIERS.c.id == bindparam("b_id")).values({name: bindparam(name) for name in TIER_COLUMNS}),
        lambda r: tier_update_row(r.tier),
    ),
    CustomerUpdate: (
        update(CUSTOMERS)
        .where(CUSTOMERS.c.id == bindparam("b_id"))
        .values({name: bindparam(name) for name in CUSTOMER_COLUMNS}),
        lambda r: customer_update_row(r.customer),
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
        .values({name: bindparam(name) for name in ENDPOINT_COLUMNS}),
        lambda r: endpoint_update_row(r.endpoint),
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
