"""The history `bench.history_scale` measures: N customers and M settled calls, written in bulk.

A fresh database, migrated and bootstrapped by a real core, is filled outside the core with what M
settled calls leave behind — for each a hold (settled), its pending transfer, its post, its cost and
its usage record — spread over the customers and over the last six billing periods, and the running
aggregates those rows add to as the group commit keeps them (the ledger totals, the daily usage
sums). The first 100 customers have a wallet (topped up once, every call of theirs paid from it),
the first 1,000 a Stripe customer id, and Stripe sync settings exist.

Two writers of the same rows: `bench.history_load` (the fast one the bench uses: tuples in the
tables' column order, COPY on PostgreSQL, big unjournaled transactions on SQLite) and `reference`
here, which builds the core's own entities and writes them with the group commit's row functions
and aggregate updates. Call ids come from `CallIds` in both, so a test compares the two databases
row for row (tests/bench/test_history_data.py).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Engine, insert

from core.domain import ledger
from core.domain.billing import StripeSettings
from core.domain.entities import Customer, Hold, Transfer, UsageRecord
from core.domain.periods import period_bounds
from core.services import accounts
from core.services.core import Core
from core.store import ledger_totals, usage_daily
from core.store.driver_sql import execute_many
from core.store.record_rows import customer_row, transfer_row
from core.store.records import grouped_statements
from core.store.tables import CUSTOMERS, TRANSFERS
from ringside_server.ids import _ALPHABET, _stamp, new_id, random_token
from ringside_server.money import Price, Usage

PRICE = Price(input=150_000_000, output=600_000_000)
USAGE = Usage(input_tokens=12, output_tokens=16)
COST_NANO = 12 * 150 + 16 * 600  # nano-USD of USAGE at PRICE
HOLD_NANO = 20_000  # a hold reserves at least what its call posts (10,000 was an overpost the audit flags)
TOP_UP_NANO = 10**15
PROVIDER, MODEL_REF, UPSTREAM_MODEL = "openai", "fc:openai/gpt-4o-mini", "gpt-4o-mini"
WALLETS = 100
STRIPE_CUSTOMERS = 1_000
PERIODS = 6
CHUNK = 20_000  # calls per generated transaction


def periods(now: int) -> list[int]:
    """The starts of the current period and the five before it (anchor day 1)."""
    starts = [period_bounds(now)[0]]
    while len(starts) < PERIODS:
        starts.append(period_bounds(starts[-1] - 1)[0])
    return starts


_TRIPLES = [a + b + c for a in _ALPHABET for b in _ALPHABET for c in _ALPHABET]
_TRIPLE_N = len(_TRIPLES)


@dataclass(frozen=True)
class CallIds:
    """Sortable ids in `new_sortable_id`'s shape (prefix, 8 characters of milliseconds, 16 more),
    made without a call per id: one millisecond stamp for the run, then a 6-character counter (so
    they sort in the order the calls were made, as the core's do) and 10 random characters."""

    stamp: str
    salt: str

    @classmethod
    def new(cls) -> CallIds:
        return cls(_stamp(time.time_ns() // 1_000_000), random_token(10))

    def counter(self, n: int) -> str:
        return self.stamp + _TRIPLES[n // _TRIPLE_N] + _TRIPLES[n % _TRIPLE_N] + self.salt

    def hold(self, n: int) -> str:
        """Call n's hold id (`req_…`), also its usage record's and its transfers' request id."""
        return "req_" + self.counter(n)

    def transfer(self, n: int) -> str:
        """The n-th non-pending transfer's id (`tr_…`): top-ups first, then each call's post and cost."""
        return "tr_" + self.counter(n)


@dataclass(frozen=True)
class Plan:
    """What to write: the account, its customers (in order: the first WALLETS have a wallet), the
    calls, the clock and the ids."""

    account_id: str
    customer_ids: list[str]
    calls: int
    now: int
    ids: CallIds

    def call(self, n: int) -> tuple[str, int, int, str]:
        """Call n's (customer, period start, created, payer ledger account)."""
        customers = len(self.customer_ids)
        index = n % customers
        customer_id = self.customer_ids[index]
        period = periods(self.now)[(n // customers) % PERIODS]
        payer = ledger.customer_wallet(customer_id) if index < WALLETS else ledger.customer_spend(customer_id)
        return customer_id, period, period + 3600 + n % 86_400, payer


def customer(plan: Plan, n: int) -> Customer:
    return Customer(
        id=plan.customer_ids[n],
        account_id=plan.account_id,
        livemode=True,
        external_id=f"ext-{n}",
        name="",
        email="",
        metadata={},
        budget_nano=None,
        budget_explicit=False,
        rate_limit_rpm=None,
        rate_limit_tpm=None,
        blocked=False,
        billing_anchor_day=1,
        wallet_low_threshold_nano=0,
        created=plan.now - 200 * 86_400,
        wallet_enabled=n < WALLETS,
        stripe_customer_id=f"cus_stripe{n}" if n < STRIPE_CUSTOMERS else "",
    )


def top_ups(plan: Plan) -> list[Transfer]:
    """One top-up per wallet customer, before every call."""
    wallets = plan.customer_ids[:WALLETS]
    return [
        Transfer(
            plan.ids.transfer(n),
            plan.account_id,
            True,
            ledger.wallet_funding(plan.account_id, True),
            ledger.customer_wallet(customer_id),
            TOP_UP_NANO,
            "topup",
            "req_topup" + plan.ids.counter(n),
            period_bounds(plan.now)[0],
            plan.now - 199 * 86_400,
        )
        for n, customer_id in enumerate(wallets)
    ]


def _calls(plan: Plan) -> Iterator[list[object]]:
    """The core's records of the plan's settled calls, CHUNK calls at a time."""
    account_id, ids, first_transfer = plan.account_id, plan.ids, len(top_ups(plan))
    revenue = ledger.revenue(account_id, True)
    cost_debit, cost_credit = (
        ledger.provider_cost(account_id, True),
        ledger.provider_payable(account_id, True, PROVIDER),
    )
    records: list[object] = []
    for n in range(plan.calls):
        customer_id, period, created, payer = plan.call(n)
        hold_id, pending_id = ids.hold(n), ledger.pending_transfer_id(ids.hold(n))
        post_id, cost_id = ids.transfer(first_transfer + 2 * n), ids.transfer(first_transfer + 2 * n + 1)
        records += [
            Hold(
                hold_id,
                account_id,
                True,
                customer_id,
                payer,
                revenue,
                HOLD_NANO,
                period,
                created,
                created + 600,
                PROVIDER,
                MODEL_REF,
                PRICE,
                0,
            ),
            Transfer(pending_id, account_id, True, payer, revenue, HOLD_NANO, "pending", hold_id, period, created),
            Transfer(
                post_id, account_id, True, payer, revenue, COST_NANO, "post", hold_id, period, created, pending_id
            ),
            Transfer(cost_id, account_id, True, cost_debit, cost_credit, COST_NANO, "cost", hold_id, period, created),
            UsageRecord(
                hold_id,
                account_id,
                True,
                customer_id,
                PROVIDER,
                MODEL_REF,
                UPSTREAM_MODEL,
                USAGE,
                COST_NANO,
                COST_NANO,
                COST_NANO,
                0,
                "completed",
                False,
                period,
                created,
            ),
        ]
        if len(records) >= CHUNK * 5:
            yield records
            records = []
    if records:
        yield records


def reference(engine: Engine, plan: Plan) -> None:
    """Write the plan as the core's group commit would (its row functions and its aggregate updates,
    one transaction per CHUNK calls), then settle every hold. Slow (~400 calls/s here): the yardstick
    `bench.history_load` is checked against, at small scales."""
    rows = [customer_row(customer(plan, n)) for n in range(len(plan.customer_ids))]
    with engine.begin() as connection:
        for start in range(0, len(rows), CHUNK):
            execute_many(connection, insert(CUSTOMERS), rows[start : start + CHUNK])
        funded = top_ups(plan)
        if funded:
            execute_many(connection, insert(TRANSFERS), [transfer_row(t) for t in funded])
            ledger_totals.add(connection, funded)
    for records in _calls(plan):
        with engine.begin() as connection:
            moved = usage_daily.deltas(connection, records)
            for statement, statement_rows in grouped_statements(records):
                execute_many(connection, statement, statement_rows)
            ledger_totals.add(connection, (record for record in records if type(record) is Transfer))
            usage_daily.add(connection, moved)
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE holds SET state = 'settled', resolved_at = created")


async def prepare(core: Core, customers_n: int, calls: int) -> Plan:
    """Bootstrap the empty database's account and its Stripe settings through the core; → the plan
    of what to write next (with the core closed)."""
    new = await accounts.bootstrap(core)
    if new is None:
        raise RuntimeError("history_scale needs an empty database")
    account_id, now = new.account.id, core.now()
    await core.writer.write(
        [StripeSettings(account_id, True, "sk_live_bench0000", "ringside_usage", "billable_cents", now)]
    )
    return Plan(account_id, [new_id("cus") for _ in range(customers_n)], calls, now, CallIds.new())


def database_bytes(url: str) -> int:
    """The SQLite file's size with its WAL (PostgreSQL: see bench.history_load.postgres_bytes)."""
    path = url.removeprefix("sqlite:///")
    return sum(os.path.getsize(p) for p in (path, path + "-wal") if os.path.exists(p))
