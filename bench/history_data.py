"""The history `bench.history_scale` measures: N customers and M settled calls, written in bulk.

A fresh database, migrated and bootstrapped by a real core, is filled directly (executemany, outside
the core) with what M settled calls leave behind — for each a hold (settled), its pending transfer,
its post, its cost and its usage record — spread over the customers and over the last six billing
periods, and the running ledger totals those transfers add to (as the group commit keeps them). The
first 100 customers have a wallet (topped up once, every call of theirs paid from it), the first
1,000 a Stripe customer id, and Stripe sync settings exist.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Engine, insert

from core.domain import ledger
from core.domain.billing import StripeSettings
from core.domain.entities import Customer, Hold, Transfer, UsageRecord
from core.domain.periods import period_bounds
from core.services import accounts
from core.services.core import Core
from core.store import ledger_totals
from core.store.driver_sql import execute_many
from core.store.records import customer_row, grouped_statements, transfer_row
from core.store.tables import CUSTOMERS, TRANSFERS
from ringside_server.ids import new_id, new_sortable_id
from ringside_server.money import Price, Usage

PRICE = Price(input=150_000_000, output=600_000_000)
USAGE = Usage(input_tokens=12, output_tokens=16)
COST_NANO = 12 * 150 + 16 * 600  # nano-USD of USAGE at PRICE
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


def _calls(account_id: str, ids: list[str], calls: int, now: int) -> Iterator[list[object]]:
    """The records of `calls` settled calls, CHUNK at a time, round-robin over the customers."""
    starts = periods(now)
    revenue = ledger.revenue(account_id, True)
    cost_debit, cost_credit = (
        ledger.provider_cost(account_id, True),
        ledger.provider_payable(account_id, True, "openai"),
    )
    records: list[object] = []
    for n in range(calls):
        customer_id = ids[n % len(ids)]
        period = starts[(n // len(ids)) % PERIODS]
        created = period + 3600 + n % 86_400
        payer = ledger.customer_wallet(customer_id) if n % len(ids) < WALLETS else ledger.customer_spend(customer_id)
        hold_id = new_sortable_id("req")
        billable = COST_NANO
        hold = Hold(
            hold_id,
            account_id,
            True,
            customer_id,
            payer,
            revenue,
            10_000,
            period,
            created,
            created + 600,
            "openai",
            "fc:openai/gpt-4o-mini",
            PRICE,
            0,
        )
        records += [
            hold,
            Transfer(
                ledger.pending_transfer_id(hold_id),
                account_id,
                True,
                payer,
                revenue,
                10_000,
                "pending",
                hold_id,
                period,
                created,
            ),
            Transfer(
                new_sortable_id("tr"),
                account_id,
                True,
                payer,
                revenue,
                billable,
                "post",
                hold_id,
                period,
                created,
                pending_id=ledger.pending_transfer_id(hold_id),
            ),
            Transfer(
                new_sortable_id("tr"),
                account_id,
                True,
                cost_debit,
                cost_credit,
                COST_NANO,
                "cost",
                hold_id,
                period,
                created,
            ),
            UsageRecord(
                hold_id,
                account_id,
                True,
                customer_id,
                "openai",
                "fc:openai/gpt-4o-mini",
                "gpt-4o-mini",
                USAGE,
                COST_NANO,
                billable,
                billable,
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


def _write(engine: Engine, records: list[object]) -> None:
    """Insert `records` and add their transfers to the running ledger totals, in one transaction
    (as the core's group commit does)."""
    with engine.begin() as connection:
        for statement, rows in grouped_statements(records):
            execute_many(connection, statement, rows)
        ledger_totals.add(connection, (record for record in records if type(record) is Transfer))


def _settled(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE holds SET state = 'settled', resolved_at = created")


async def generate(core: Core, customers_n: int, calls: int) -> str:
    """Fill the database; → a wallet customer's id (every customer has about calls/customers calls)."""
    new = await accounts.bootstrap(core)
    if new is None:
        raise RuntimeError("history_scale needs an empty database")
    account_id, now = new.account.id, core.now()
    ids = [new_id("cus") for _ in range(customers_n)]
    engine = core.engine
    rows = [
        customer_row(
            Customer(
                id=customer_id,
                account_id=account_id,
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
                created=now - 200 * 86_400,
                wallet_enabled=n < WALLETS,
                stripe_customer_id=f"cus_stripe{n}" if n < STRIPE_CUSTOMERS else "",
            )
        )
        for n, customer_id in enumerate(ids)
    ]
    top_ups = [
        Transfer(
            new_sortable_id("tr"),
            account_id,
            True,
            ledger.wallet_funding(account_id, True),
            ledger.customer_wallet(customer_id),
            10**15,
            "topup",
            new_id("req"),
            period_bounds(now)[0],
            now - 199 * 86_400,
        )
        for customer_id in ids[:WALLETS]
    ]
    with engine.begin() as connection:
        for start in range(0, len(rows), CHUNK):
            execute_many(connection, insert(CUSTOMERS), rows[start : start + CHUNK])
        if top_ups:
            execute_many(connection, insert(TRANSFERS), [transfer_row(t) for t in top_ups])
            ledger_totals.add(connection, top_ups)
    for records in _calls(account_id, ids, calls, now):
        _write(engine, records)
    _settled(engine)
    await core.writer.write(
        [StripeSettings(account_id, True, "sk_live_bench0000", "ringside_usage", "billable_cents", now)]
    )
    return ids[0]
