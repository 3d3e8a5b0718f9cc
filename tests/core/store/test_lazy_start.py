"""A lazy start (core/services/customer_load.py, issue 24): a call naming a customer the background
load has not reached yet loads that customer first and is enforced exactly — its wallet balance,
its spend and its open holds from before the restart — and when the background chunk then reads
that customer too, the core keeps one state for it (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import pathlib
import threading
from typing import Any

import pytest

from core.domain.calls import CallRequest
from core.domain.entities import Denial
from core.domain.metering import Admission
from core.server import open_core
from core.services import accounts, customer_load, customers, metering, wallets
from core.services.core import Core, Principal
from core.store import loader
from ringside.core.v1 import metering_pb2
from ringside_server.money import Price, Usage
from tests.core.store.conftest import core_settings

PRICE = Price(input=150_000_000, output=600_000_000)
# Less than any call costs (its 1,000 input tokens alone cost 150,000 nano-dollars).
LITTLE = 1_000


def _call(secret: str, ref: str) -> CallRequest:
    return CallRequest(
        api_key=secret,
        customer_ref=ref,
        user="",
        model_ref="fc:openai/gpt-4o-mini",
        provider="openai",
        price=PRICE,
        input_tokens_bound=1_000,
        requested_output_tokens=1_000,
        model_max_output_tokens=16_384,
    )


async def _authorize(core: Core, secret: str, ref: str) -> Admission | Denial:
    """What the gRPC layer does (core/rpc/base.py): the customer loaded first, then the call."""
    assert core.customer_load is not None
    await core.customer_load.before("Authorize", metering_pb2.AuthorizeRequest(api_key=secret, customer_ref=ref))
    return await metering.authorize(core, _call(secret, ref))


async def _close(core: Core) -> None:
    await core.writer.close()
    core.engine.dispose()


async def test_a_call_during_the_load_is_enforced_on_its_customer_loaded_on_demand(
    database: str, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = core_settings(tmp_path, database)
    core = await open_core(settings)
    try:
        new = await accounts.bootstrap(core)
        assert new is not None
        secret = new.live_key.secret
        principal = Principal(account_id=new.account.id, livemode=True, scopes=frozenset({"api:write", "api:read"}))
        # Many customers before them, so the background load's chunks have not reached them yet.
        for n in range(30):
            await customers.create(core, principal, customers.CustomerInput(external_id=f"early-{n}"))
        probe = await metering.authorize(core, _call(secret, ""))
        assert isinstance(probe, Admission)
        estimate = probe.hold.amount_nano
        await metering.settle(core, metering.SettleCall(probe.hold.id, Usage(), "failed", False, "m"))
        # A prepaid customer with history: a call spent about an estimate of its wallet, then a
        # top-up left it an estimate and a little (less than any call's input): one call fits.
        payer, _ = await customers.create(
            core, principal, customers.CustomerInput(external_id="payer", wallet_enabled=True)
        )
        await wallets.top_up(core, principal, payer.id, estimate, "in")
        spent = await metering.authorize(core, _call(secret, payer.id))
        assert isinstance(spent, Admission)
        usage = Usage(input_tokens=1_000, output_tokens=990)
        done = await metering.settle(core, metering.SettleCall(spent.hold.id, usage, "completed", False, "m"))
        assert done.posted_nano > estimate // 2
        await wallets.top_up(core, principal, payer.id, done.posted_nano + LITTLE, "in")
        balance = estimate + LITTLE
        # A budgeted customer with a call in flight over the restart: its open hold counts.
        budgeted, _ = await customers.create(
            core,
            principal,
            customers.CustomerInput(external_id="budgeted", budget_nano=estimate + LITTLE, budget_explicit=True),
        )
        open_hold = await metering.authorize(core, _call(secret, budgeted.id))
        assert isinstance(open_hold, Admission) and open_hold.hold.amount_nano == estimate
    finally:
        await _close(core)

    # Restart lazily with the background load held before its first chunk.
    release = threading.Event()
    real = loader.load_customers

    def held(*args: Any, **kwargs: Any) -> loader.CustomerChunk:
        if len(args) > 2:  # a background chunk (after, limit), not an on-demand read
            assert release.wait(60)
        return real(*args, **kwargs)

    monkeypatch.setattr(customer_load, "load_customers", held)
    monkeypatch.setattr(customer_load, "CHUNK", 8)
    core = await open_core(settings, lazy=True)
    try:
        load = core.customer_load
        assert load is not None and not load.finished
        assert core.state.customers == {}  # served before any customer is loaded

        # The payer, named by id: its wallet holds an estimate and a little: one call, not two.
        first = await _authorize(core, secret, payer.id)
        assert isinstance(first, Admission), first
        assert first.customer is not None and first.customer.wallet_balance_nano == balance
        second = await _authorize(core, secret, payer.id)
        assert isinstance(second, Denial) and second.code == "customer_wallet_empty", second

        # The budgeted customer, named by external id: the hold open since before the restart
        # counts, so a second call does not fit its budget.
        refused = await _authorize(core, secret, "ext:budgeted")
        assert isinstance(refused, Denial) and refused.code == "customer_budget_exceeded", refused
        assert load.on_demand_loads == 2

        installed = {cid: core.state.customers[cid] for cid in (payer.id, budgeted.id)}
        release.set()
        await asyncio.wait_for(load.done.wait(), 60)
        # One state each: the chunk's later copy was dropped, nothing counted twice.
        assert len(core.state.customers) == 32
        for cid, customer in installed.items():
            assert core.state.customers[cid] is customer
        assert installed[payer.id].held_nano == first.hold.amount_nano
        assert installed[budgeted.id].held_nano == open_hold.hold.amount_nano
        assert installed[payer.id].wallet_balance_nano == balance
        settled = await metering.settle(
            core, metering.SettleCall(first.hold.id, Usage(input_tokens=10, output_tokens=10), "completed", False, "m")
        )
        assert installed[payer.id].wallet_balance_nano == balance - settled.posted_nano
        assert installed[payer.id].held_nano == 0
    finally:
        release.set()
        await _close(core)


async def test_concurrent_calls_for_one_customer_load_it_once_and_share_its_wallet_exactly(
    database: str, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = core_settings(tmp_path, database)
    core = await open_core(settings)
    try:
        new = await accounts.bootstrap(core)
        assert new is not None
        secret = new.live_key.secret
        principal = Principal(account_id=new.account.id, livemode=True, scopes=frozenset({"api:write", "api:read"}))
        probe = await metering.authorize(core, _call(secret, ""))
        assert isinstance(probe, Admission)
        estimate = probe.hold.amount_nano
        await metering.settle(core, metering.SettleCall(probe.hold.id, Usage(), "failed", False, "m"))
        payer, _ = await customers.create(core, principal, customers.CustomerInput(wallet_enabled=True))
        await wallets.top_up(core, principal, payer.id, 3 * estimate + LITTLE, "in")
    finally:
        await _close(core)

    release = threading.Event()
    reads: list[dict[str, Any]] = []
    real = loader.load_customers

    def counted(*args: Any, **kwargs: Any) -> loader.CustomerChunk:
        if len(args) > 2:
            assert release.wait(60)
        else:
            reads.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(customer_load, "load_customers", counted)
    core = await open_core(settings, lazy=True)
    try:
        decisions = await asyncio.gather(*(_authorize(core, secret, payer.id) for _ in range(10)))
        admitted = [d for d in decisions if isinstance(d, Admission)]
        assert len(admitted) == 3, decisions  # three full estimates fit the wallet, a fourth does not
        assert all(isinstance(d, Denial) and d.code == "customer_wallet_empty" for d in decisions if d not in admitted)
        assert reads == [{"ids": [payer.id]}]  # one read for the ten calls
        customer = core.state.customers[payer.id]
        assert customer.held_nano == 3 * estimate
        release.set()
        assert core.customer_load is not None
        await asyncio.wait_for(core.customer_load.done.wait(), 60)
        assert core.state.customers[payer.id] is customer and customer.held_nano == 3 * estimate
    finally:
        release.set()
        await _close(core)
