"""Start-up: rebuild the hot state from the database (the ledger is the source of truth)."""

from __future__ import annotations

import contextlib
import ctypes
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import CompoundSelect, Connection, Engine, Select, Table, func, literal, select, union_all

from core.domain import ledger
from core.domain.batches import Batch
from core.domain.client_tokens import KEY_GRACE_S
from core.domain.entities import Account, ApiKey, Customer, Hold, LeaseAdmission, Slot, Tier
from core.domain.files import StoredFile
from core.domain.periods import period_bounds
from core.domain.state import State
from core.domain.vector_store_files import VectorStoreFile
from core.domain.vector_store_migrations import VectorStoreMigration
from core.domain.vector_stores import VectorStore
from core.store import ledger_totals, usage_daily
from core.store.among import Among, Between, among
from core.store.batch_records import BATCH_FIELDS
from core.store.event_marks import last_refusal_events, rebuild_marks
from core.store.rag_migrations import MIGRATION_FIELDS
from core.store.rag_records import FILE_FIELDS, STORE_FIELDS, STORE_FILE_FIELDS
from core.store.record_rows import models_from_json
from core.store.tables import (
    ACCOUNTS,
    API_KEYS,
    BATCHES,
    CUSTOMERS,
    FILES,
    HOLDS,
    LEASE_ADMISSIONS,
    SIGNING_KEYS,
    SLOTS,
    TIERS,
    TRANSFERS,
    USAGE,
    VECTOR_STORE_FILES,
    VECTOR_STORE_MIGRATIONS,
    VECTOR_STORES,
)
from ringside_server.client_token import SigningKey
from ringside_server.money import Price

# Periods are at most 31 days long; anything older cannot be a customer's current period.
_LOOKBACK_S = 32 * 86_400
# The longest IN list of bound values a start sends SQLite (its limit: 32,766 since 3.32).
_MAX_IN_LIST = 10_000


def load_state(engine: Engine, now: int, owned: Callable[[str], bool] | None = None, customers: bool = True) -> State:
    """Every account's hot state; with `owned` (a `fair` core's partitions, issue 25) only the
    accounts it accepts: the accounts table is read whole (one row per tenant) and every other
    query is filtered in SQL by their ids (or by their customers' ledger accounts), so a share's
    load reads its share's rows, not every table. Without `customers`, the tenants' state only
    (open holds included): the customers come later, in chunks and on demand (`load_customers`,
    core/services/customer_load.py), so the time to serve does not grow with them."""
    state = State()
    with engine.connect() as connection:
        for a in connection.execute(select(ACCOUNTS)).mappings():
            if owned is not None and not owned(a["id"]):
                continue
            state.accounts[a["id"]] = Account(
                a["id"],
                a["name"],
                a["created"],
                a["markup_bp"],
                a["auto_create_customers"],
                a["default_max_output_tokens"],
                a["default_tier_live"],
                a["default_tier_test"],
                a["prepaid_balance_enabled"],
                a["low_threshold_pct"],
                a["require_customer_live"],
                a["require_customer_test"],
                a["bare_model_provider_live"],
                a["bare_model_provider_test"],
            )
        ids = sorted(state.accounts) if owned is not None else None
        mine = _Among(connection, ids)
        for r in connection.execute(mine(select(SLOTS).where(SLOTS.c.deleted_at.is_(None)), SLOTS)).mappings():
            state.add_slot(Slot(r["id"], r["account_id"], r["livemode"], r["name"], r["model"], r["created"]))
        for f in connection.execute(mine(select(FILES).where(FILES.c.deleted_at.is_(None)), FILES)).mappings():
            state.files[f["id"]] = StoredFile(**{name: f[name] for name in FILE_FIELDS})
        for b in connection.execute(mine(select(BATCHES), BATCHES)).mappings():
            state.batches[b["id"]] = Batch(**{name: b[name] for name in BATCH_FIELDS})
        stores = select(VECTOR_STORES).where(VECTOR_STORES.c.deleted_at.is_(None))
        for v in connection.execute(mine(stores, VECTOR_STORES)).mappings():
            state.vector_stores[v["id"]] = VectorStore(**{name: v[name] for name in STORE_FIELDS})
        for sf in connection.execute(mine(select(VECTOR_STORE_FILES), VECTOR_STORE_FILES)).mappings():
            row = VectorStoreFile(**{name: sf[name] for name in STORE_FILE_FIELDS})
            state.store_files.setdefault(row.store_id, {})[row.file_id] = row
        for m in connection.execute(mine(select(VECTOR_STORE_MIGRATIONS), VECTOR_STORE_MIGRATIONS)).mappings():
            migration = VectorStoreMigration(**{name: m[name] for name in MIGRATION_FIELDS})
            if migration.store_id in state.vector_stores:  # a deleted store's migrations are history only
                state.store_migrations.setdefault(migration.store_id, {})[migration.id] = migration
        for t in connection.execute(mine(select(TIERS).where(TIERS.c.deleted_at.is_(None)), TIERS)).mappings():
            state.add_tier(
                Tier(
                    t["id"],
                    t["account_id"],
                    t["livemode"],
                    t["name"],
                    t["budget_nano"],
                    t["rate_limit_rpm"],
                    t["rate_limit_tpm"],
                    t["markup_bp"],
                    t["created"],
                    allowed_models=models_from_json(t["allowed_models_json"]),
                )
            )
        for k in connection.execute(mine(select(API_KEYS), API_KEYS)).mappings():
            state.add_key(
                ApiKey(
                    k["id"],
                    k["account_id"],
                    k["livemode"],
                    k["name"],
                    frozenset(k["scopes"].split()),
                    k["secret_hash"],
                    k["redacted"],
                    k["created"],
                    k["revoked_at"],
                    models_from_json(k["allowed_models_json"]),
                )
            )
        if customers:
            for customer in _customers(
                connection, mine(select(CUSTOMERS).where(CUSTOMERS.c.deleted_at.is_(None)), CUSTOMERS), now
            ):
                state.add_customer(customer)
            _load_spend(connection, state, now, filtered=ids is not None)
        _load_prepaid_balances(connection, state, filtered=ids is not None)
        _load_holds(connection, state, mine)
        for k in connection.execute(select(SIGNING_KEYS)).mappings():
            if k["retired_at"] is None or k["retired_at"] + KEY_GRACE_S > now:
                state.signing_keys[k["kid"]] = SigningKey(**k)
        if customers:
            rebuild_marks(connection, state, now, accounts=ids)
    return state


def _customers(connection: Connection, query: Select[Any], now: int) -> list[Customer]:
    """The customers `query` selects (whole rows of CUSTOMERS), their money not read yet."""
    found: list[Customer] = []
    for c in connection.execute(query).mappings():
        customer = Customer(
            id=c["id"],
            account_id=c["account_id"],
            livemode=c["livemode"],
            external_id=c["external_id"],
            name=c["name"],
            email=c["email"],
            metadata=orjson.loads(c["metadata_json"]),
            budget_nano=c["budget_nano"],
            budget_explicit=c["budget_explicit"],
            rate_limit_rpm=c["rate_limit_rpm"],
            rate_limit_tpm=c["rate_limit_tpm"],
            blocked=c["blocked"],
            billing_anchor_day=c["billing_anchor_day"],
            wallet_enabled=c["wallet_enabled"],
            wallet_low_threshold_nano=c["wallet_low_threshold_nano"],
            created=c["created"],
            stripe_customer_id=c["stripe_customer_id"],
            tier_id=c["tier_id"],
            tokens_revoked_before_ms=c["tokens_revoked_before_ms"],
            erasure=c["erasure_status"],
            allowed_models=models_from_json(c["allowed_models_json"]),
            allowed_models_explicit=c["allowed_models_json"] is not None,
        )
        customer.period_start = period_bounds(now, customer.billing_anchor_day)[0]
        found.append(customer)
    return found


class _Among:
    """`select` filtered to the rows of the accounts `ids` (None: unfiltered). On PostgreSQL one
    array parameter (`= ANY(...)`), whatever the count; elsewhere an IN list."""

    def __init__(self, connection: Connection, ids: list[str] | None) -> None:
        self.ids = ids
        self.postgres = connection.dialect.name == "postgresql"

    def __call__(self, query: Select[Any], table: Table) -> Select[Any]:
        if self.ids is None:
            return query
        return query.where(among(table.c.account_id, self.ids, self.postgres))


def release_freed_heap() -> None:
    """Give back to the OS the heap the start's reads freed: glibc keeps it, and on PostgreSQL the
    driver holds each result whole while it is read (~50 MB at 100,000 customers, RSS the process
    would keep for its life; bench.history_scale). A no-op without glibc."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).malloc_trim(0)


def spend_by_payer_period(connection: Connection, since: int) -> dict[tuple[str, int], int]:
    """Posted usage per (payer ledger account, period): posts and expiries minus corrections."""
    t = TRANSFERS.c
    spent: dict[tuple[str, int], int] = defaultdict(int)
    debits = (
        select(t.debit, t.period_start, func.sum(t.amount_nano))
        .where(t.kind.in_(ledger.SPEND_KINDS), t.period_start >= since)
        .group_by(t.debit, t.period_start)
    )
    for account, period, amount in connection.execute(debits):
        spent[(account, period)] += int(amount)
    credits = (
        select(t.credit, t.period_start, func.sum(t.amount_nano))
        .where(t.kind == "correction", t.period_start >= since)
        .group_by(t.credit, t.period_start)
    )
    for account, period, amount in connection.execute(credits):
        spent[(account, period)] -= int(amount)
    return spent


def customer_spend(spent: dict[tuple[str, int], int], customer_id: str, period_start: int) -> int:
    """A customer's spend in a period, whichever account paid (it may have turned its wallet on or off)."""
    return sum(
        spent.get((payer, period_start), 0)
        for payer in (ledger.customer_spend(customer_id), ledger.customer_wallet(customer_id))
    )


def _load_spend(connection: Connection, state: State, now: int, filtered: bool = False) -> None:
    """Posted usage per payer account and period (debits minus corrections), request counts, wallet
    balances: the money from the running ledger totals, the counts from the daily usage aggregates
    (neither grows with calls). `filtered`: only the loaded customers' rows are read."""
    since = now - _LOOKBACK_S
    ids = sorted(state.customers) if filtered else None
    payers = None if ids is None else [f(c) for c in ids for f in (ledger.customer_spend, ledger.customer_wallet)]
    wallets = None if ids is None else [ledger.customer_wallet(c) for c in ids]
    spent = ledger_totals.spend_by_payer_period(connection, since, among_accounts=payers)
    requests = usage_daily.request_counts(connection, since, among_customers=ids)
    wallet_balance = ledger_totals.balances_like(connection, "%:wallet", exclude_kind="pending", among_accounts=wallets)
    for customer in state.customers.values():
        customer.spent_nano = customer_spend(spent, customer.id, customer.period_start)
        customer.request_count = requests.get((customer.id, customer.period_start), 0)
        customer.wallet_balance_nano = wallet_balance.get(ledger.customer_wallet(customer.id), 0)


def _load_prepaid_balances(connection: Connection, state: State, filtered: bool = False) -> None:
    """Each account's prepaid balance: what its prepaid ledger account was credited, minus debited."""
    names = {ledger.prepaid(account_id): account_id for account_id in state.accounts}
    # By name, not by a LIKE over every ledger account's totals (the customers' too: O(customers),
    # ~0.16 s at 100,000 on SQLite, most of a lazy start's load); an IN list within SQLite's bound.
    by_name = filtered or connection.dialect.name == "postgresql" or len(names) <= _MAX_IN_LIST
    among_accounts = sorted(names) if by_name else None
    balances = ledger_totals.balances_like(connection, "%:live:prepaid", among_accounts=among_accounts)
    for name, amount in balances.items():
        if name in names:
            state.prepaid_of(names[name]).balance_nano += amount


def _hold(row: Any) -> Hold:
    return Hold(
        id=row["id"],
        account_id=row["account_id"],
        livemode=row["livemode"],
        customer_id=row["customer_id"],
        payer=row["payer"],
        revenue=row["revenue"],
        amount_nano=row["amount_nano"],
        period_start=row["period_start"],
        created=row["created"],
        expires_at=row["expires_at"],
        provider=row["provider"],
        model_ref=row["model_ref"],
        price=Price(**orjson.loads(row["price_json"])),
        markup_bp=row["markup_bp"],
        kind=row["kind"],
        prepaid_nano=row["prepaid_nano"],
        lease_calls=row["lease_calls"],
        output_tokens=row["output_tokens"],
        lease_tokens=row["lease_tokens"],
    )


def load_expired_hold(engine: Engine, hold_id: str) -> Hold | None:
    """An expired hold's terms, for a settle that arrives after a restart forgot it (a lease with
    what its calls consumed)."""
    h = HOLDS.c
    t = TRANSFERS.c
    with engine.connect() as connection:
        row = connection.execute(select(HOLDS).where(h.id == hold_id, h.state == "expired")).mappings().first()
        if row is None:
            return None
        hold = _hold(row)
        if hold.kind == "lease":
            consumed = connection.execute(
                select(func.sum(t.amount_nano)).where(t.kind == "lease_post", t.hold_id == hold_id)
            ).scalar()
            hold.consumed_nano = int(consumed or 0)
    return hold


def expired_lease_calls(engine: Engine, request_ids: list[str]) -> tuple[dict[str, int], set[str]]:
    """Of calls reported after their lease expired: those the expiry posted (request id → amount)
    and those already recorded otherwise (a repeated report)."""
    u = USAGE.c
    released: dict[str, int] = {}
    recorded: set[str] = set()
    with engine.connect() as connection:
        rows = connection.execute(select(u.request_id, u.status, u.posted_nano).where(u.request_id.in_(request_ids)))
        for request_id, status, posted in rows:
            if status == "lease_released":
                released[request_id] = int(posted)
            else:
                recorded.add(request_id)
    return released, recorded


def _load_holds(connection: Connection, state: State, mine: _Among | None = None) -> None:
    h = HOLDS.c
    t = TRANSFERS.c
    open_leases = select(h.id).where(h.state == "open", h.kind == "lease")
    open_holds = select(HOLDS).where(h.state == "open")
    if mine is not None:
        open_leases, open_holds = mine(open_leases, HOLDS), mine(open_holds, HOLDS)
    consumed: dict[str, int] = defaultdict(int)
    reported: dict[str, set[str]] = defaultdict(set)
    for hold_id, request_id, amount in connection.execute(
        select(t.hold_id, t.request_id, t.amount_nano).where(t.kind == "lease_post", t.hold_id.in_(open_leases))
    ):
        consumed[hold_id] += int(amount)
        reported[hold_id].add(request_id)
    a = LEASE_ADMISSIONS.c
    admitted: dict[str, list[LeaseAdmission]] = defaultdict(list)
    for row in connection.execute(select(LEASE_ADMISSIONS).where(a.lease_id.in_(open_leases))).mappings():
        admitted[row["lease_id"]].append(LeaseAdmission(**row))
    for row in connection.execute(open_holds).mappings():
        hold = _hold(row)
        if hold.kind == "lease":  # calls already posted against it, calls admitted and not finished
            hold.consumed_nano = consumed.get(hold.id, 0)
            hold.reported = reported.get(hold.id, set())
            hold.admitted = {c.request_id: c for c in admitted.get(hold.id, []) if c.request_id not in hold.reported}
        state.add_hold(hold)
        if hold.prepaid_nano:
            state.prepaid_of(hold.account_id).held_nano += hold.prepaid_nano
        customer = state.customers.get(hold.customer_id) if hold.customer_id else None
        if customer is not None:
            customer.held_nano += hold.remaining_nano


@dataclass(slots=True)
class CustomerChunk:
    """Customers read for a lazy start (core/services/customer_load.py): their rows with the money
    the ledger totals give (spend, request counts, wallet balance), and the last refusal events'
    trigger keys; their open holds' share and edge-trigger marks are set when they are installed."""

    customers: list[Customer]
    last_events: dict[tuple[str, str], str]
    # The keyset position after this chunk ("" when it was not a chunk of the background load).
    last_id: str = ""


def load_customers(
    engine: Engine,
    now: int,
    after: str | None = None,
    limit: int = 2_000,
    ids: list[str] | None = None,
    external: tuple[str, bool, str] | None = None,
    accounts: list[str] | None = None,
) -> CustomerChunk:
    """One chunk of the customers in id order after `after` (the background load), or the
    customers `ids` / the one with this (account, mode, external id) (a call naming one).
    `accounts`: of those accounts only (a `fair` core's share).
    Every query is filtered to the chunk's customers: its cost is the chunk's, not the history's."""
    c = CUSTOMERS.c
    query = select(CUSTOMERS).where(c.deleted_at.is_(None))
    with engine.connect() as connection:
        postgres = connection.dialect.name == "postgresql"
        if accounts is not None:
            query = query.where(among(c.account_id, accounts, postgres))
        if after is not None:
            query = query.where(c.id > after).order_by(c.id).limit(limit)
        elif ids is not None:
            query = query.where(among(c.id, ids, postgres))
        elif external is not None:
            query = query.where(c.account_id == external[0], c.livemode == external[1], c.external_id == external[2])
        customers = _customers(connection, query, now)
        if not customers:
            return CustomerChunk([], {}, "")
        # The keyset position: the last id in the database's order (its collation's, maybe not Python's).
        last_id = customers[-1].id if after is not None else ""
        chosen: Among
        payers: Among
        wallets: Select[Any] | list[str]
        if after is not None:  # the chunk by its bounds: the same statements for every chunk
            chosen, payers, wallets = _chunk_queries(after, last_id, accounts, postgres)
        else:
            chosen = [customer.id for customer in customers]
            payers = [f(i) for i in chosen for f in (ledger.customer_spend, ledger.customer_wallet)]
            wallets = [ledger.customer_wallet(i) for i in chosen]
        since = now - _LOOKBACK_S
        spent = ledger_totals.spend_by_payer_period(connection, since, among_accounts=payers)
        requests = usage_daily.request_counts(connection, since, among_customers=chosen)
        balance = (
            ledger_totals.balances_of(connection, wallets, exclude_kind="pending")
            if isinstance(wallets, Select)
            else ledger_totals.balances_like(connection, "%:wallet", exclude_kind="pending", among_accounts=wallets)
        )
        for customer in customers:
            customer.spent_nano = customer_spend(spent, customer.id, customer.period_start)
            customer.request_count = requests.get((customer.id, customer.period_start), 0)
            customer.wallet_balance_nano = balance.get(ledger.customer_wallet(customer.id), 0)
        last = last_refusal_events(connection, now, chosen)
    return CustomerChunk(customers, last, last_id)


def _chunk_queries(
    after: str, last_id: str, accounts: list[str] | None, postgres: bool
) -> tuple[Between, CompoundSelect, Select[Any]]:
    """A chunk's customers as the range of their ids (after, last_id], its payer ledger accounts
    (spend and wallet) and its wallets as queries over the customers of that range, deleted or not:
    a customer created in it since the chunk was read only adds rows nobody looks up (each result
    is read by the chunk's ids), and every customer of the chunk is among them whatever happened
    to it since."""
    c = CUSTOMERS.c
    bounds = [c.id > after, c.id <= last_id]
    if accounts is not None:
        bounds.append(among(c.account_id, accounts, postgres))
    wallets = select(c.id + literal(ledger.WALLET_SUFFIX)).where(*bounds)
    payers = union_all(select(c.id + literal(ledger.SPEND_SUFFIX)).where(*bounds), wallets)
    return Between(after, last_id), payers, wallets
