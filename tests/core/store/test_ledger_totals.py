"""core/store/ledger_totals.py: the running totals equal the ledger summed again after a randomized
concurrent workload (per-call holds settled, failed or left open, leases reported and closed, wallet
top-ups and wallet-paid calls), and a core started from them has the balances and spend the whole
ledger gives (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import pathlib
import random

import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from core.domain import ledger
from core.domain.calls import CallRequest
from core.domain.entities import LeaseAdmission
from core.domain.metering import Admission
from core.domain.settlement import FinishedCall
from core.server import open_core
from core.services import accounts, customers, system, wallets
from core.services.core import Core, Principal
from core.services.leases import acquire_lease, settle_lease_calls
from core.services.metering import SettleCall, authorize, settle
from core.store import ledger_totals
from core.store.loader import spend_by_payer_period
from core.store.tables import LEDGER_TOTALS
from ringside_server.ids import new_sortable_id
from ringside_server.money import Price, Usage
from tests.core.store.conftest import core_settings as _settings

PRICE = Price(input=150_000_000, output=600_000_000)
WORKERS = 12
OPERATIONS = 15  # per worker


def _call(secret: str, customer_id: str) -> CallRequest:
    return CallRequest(
        api_key=secret,
        customer_ref=customer_id,
        user="",
        model_ref="fc:openai/gpt-4o-mini",
        provider="openai",
        price=PRICE,
        input_tokens_bound=40,
        requested_output_tokens=32,
        model_max_output_tokens=16_384,
    )


async def _workload(core: Core, secret: str, principal: Principal, seed: int) -> None:
    budgeted = [
        (await customers.create(core, principal, customers.CustomerInput(external_id=f"c{n}", budget_nano=10**12)))[0]
        for n in range(3)
    ]
    wallet = (await customers.create(core, principal, customers.CustomerInput(external_id="w", wallet_enabled=True)))[0]
    await wallets.top_up(core, principal, wallet.id, 10**10, "start")
    everyone = [*budgeted, wallet]

    async def worker(index: int) -> None:
        rng = random.Random(seed * 100 + index)
        for _ in range(OPERATIONS):
            customer = rng.choice(everyone)
            usage = Usage(input_tokens=rng.randint(0, 40), output_tokens=rng.randint(0, 32))
            choice = rng.random()
            if choice < 0.5:  # a per-call hold: settled, failed, or left open
                admitted = await authorize(core, _call(secret, customer.id))
                assert isinstance(admitted, Admission), admitted
                if rng.random() < 0.85:
                    outcome = "completed" if rng.random() < 0.8 else "failed"
                    await settle(core, SettleCall(admitted.hold.id, usage, outcome, False, "gpt-4o-mini"))
            elif choice < 0.8 and customer is not wallet:  # a lease, its calls, its close
                lease = await acquire_lease(core, _call(secret, customer.id), rng.randint(1, 8))
                if not isinstance(lease, Admission):
                    continue
                hold, now = lease.hold, core.now()
                estimate = hold.amount_nano // max(1, lease.lease_calls)
                ids = [new_sortable_id("req") for _ in range(lease.lease_calls)]
                admissions = [LeaseAdmission(i, hold.id, hold.model_ref, hold.provider, estimate, now) for i in ids]
                await settle_lease_calls(core, hold.id, [], False, admissions)
                finished = [
                    FinishedCall(i, hold.model_ref, hold.provider, PRICE, estimate, usage, "completed", False, "m")
                    for i in ids[: rng.randint(0, len(ids))]
                ]
                await settle_lease_calls(core, hold.id, finished, rng.random() < 0.7)
            else:
                await wallets.top_up(core, principal, wallet.id, rng.randint(1, 10**6), "more")
            await asyncio.sleep(0)

    await asyncio.gather(*(worker(index) for index in range(WORKERS)))


@pytest.mark.parametrize("seed", [1, 2])
async def test_totals_equal_the_ledger_summed_again(database: str, tmp_path: pathlib.Path, seed: int) -> None:
    core = await open_core(_settings(tmp_path, database))
    try:
        new = await accounts.bootstrap(core)
        assert new is not None
        principal = Principal(account_id=new.account.id, livemode=True, scopes=frozenset({"api:write", "api:read"}))
        await _workload(core, new.live_key.secret, principal, seed)
        expected_wallets = {
            ledger.customer_wallet(c.id): c.wallet_balance_nano
            for c in core.state.customers.values()
            if c.wallet_enabled
        }
        expected_spend = {c.id: (c.spent_nano, c.period_start) for c in core.state.customers.values()}
        with core.engine.connect() as connection:
            assert ledger_totals.mismatches(connection) == []
            from_totals = {k: v for k, v in ledger_totals.spend_by_payer_period(connection, 0).items() if v}
            from_ledger = {k: v for k, v in spend_by_payer_period(connection, 0).items() if v}
            assert from_totals == from_ledger and from_ledger
            balances = ledger_totals.balances_like(connection, "%:wallet", exclude_kind="pending")
            assert {k: balances.get(k, 0) for k in expected_wallets} == expected_wallets
    finally:
        await core.writer.close()
        core.engine.dispose()
    # A core started from the totals has the memory the running one had.
    restarted = await open_core(_settings(tmp_path, database))
    try:
        for customer in restarted.state.customers.values():
            assert (customer.spent_nano, customer.period_start) == expected_spend[customer.id]
            if customer.wallet_enabled:
                assert customer.wallet_balance_nano == expected_wallets[ledger.customer_wallet(customer.id)]
    finally:
        await restarted.writer.close()
        restarted.engine.dispose()


async def test_a_commit_that_fails_adds_nothing(database: str, tmp_path: pathlib.Path) -> None:
    """A transfer that cannot land (a second resolution of one hold) leaves the totals as they were;
    the ledger audit passes on them, and fails once a total no longer equals its transfers."""
    core = await open_core(_settings(tmp_path, database))
    try:
        new = await accounts.bootstrap(core)
        assert new is not None
        principal = Principal(account_id=new.account.id, livemode=True, scopes=frozenset({"api:write", "api:read"}))
        customer, _ = await customers.create(core, principal, customers.CustomerInput(budget_nano=10**12))
        admitted = await authorize(core, _call(new.live_key.secret, customer.id))
        assert isinstance(admitted, Admission)
        settled = core.meter.plan_settle(admitted.hold, Usage(input_tokens=5), "completed", False, "m")
        await core.writer.write(settled.records)
        with pytest.raises(IntegrityError):  # the pending transfer's unique resolution refuses a second post
            await core.writer.write(core.meter.plan_settle(admitted.hold, Usage(), "completed", False, "m").records)
        with core.engine.connect() as connection:
            assert ledger_totals.mismatches(connection) == []
        audit = await system.verify_ledger(core)  # (the hot state missed the writes made here by hand)
        assert audit.totals_mismatches == 0 and audit.imbalance_nano == 0, audit
        # A total that drifts from its transfers (here edited by hand) fails the ledger audit.
        spend = ledger.customer_spend(customer.id)
        with core.engine.begin() as connection:
            connection.execute(
                update(LEDGER_TOTALS)
                .where(LEDGER_TOTALS.c.ledger_account == spend, LEDGER_TOTALS.c.kind == "post")
                .values(debit_nano=LEDGER_TOTALS.c.debit_nano + 1)
            )
        with core.engine.connect() as connection:
            [(account, _, kind, kept, summed, _, _)] = ledger_totals.mismatches(connection)
        assert (account, kind, kept - summed) == (spend, "post", 1)
        audit = await system.verify_ledger(core)
        assert audit.totals_mismatches == 1 and audit.imbalance_nano == 0 and not audit.ok, audit
    finally:
        await core.writer.close()
        core.engine.dispose()
