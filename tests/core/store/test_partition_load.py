"""core/store/loader.py `load_state(…, owned)`: a `fair` core's load of its partitions' accounts,
filtered in SQL (issue 25), gives exactly what the whole load kept in memory would — accounts,
keys, customers with their period's spend, request counts and held amounts, open holds, prepaid
balances — for either account alone, both and none (SQLite and PostgreSQL)."""

from __future__ import annotations

import pathlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from core.domain import state_partitions
from core.domain.calls import CallRequest
from core.domain.metering import Admission
from core.domain.state import State
from core.server import open_core
from core.services import accounts, customers
from core.services.accounts import create_account
from core.services.core import Core, Principal
from core.services.metering import SettleCall, authorize, settle
from core.store.loader import load_state
from ringside_server.money import Price, Usage
from ringside_server.settings import Settings
from tests.harness import create_postgres_database, drop_postgres_database

PRICE = Price(input=150_000_000, output=600_000_000)


@pytest.fixture(params=["sqlite", "postgres"])
async def database(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> AsyncIterator[str]:
    url = f"sqlite:///{tmp_path}/ringside.db" if request.param == "sqlite" else create_postgres_database()
    try:
        yield url
    finally:
        if request.param == "postgres":
            drop_postgres_database(url)


def _call(secret: str, customer_ref: str) -> CallRequest:
    return CallRequest(
        api_key=secret,
        customer_ref=customer_ref,
        user="",
        model_ref="fc:openai/gpt-4o-mini",
        provider="openai",
        price=PRICE,
        input_tokens_bound=40,
        requested_output_tokens=32,
        model_max_output_tokens=16_384,
    )


async def _traffic(core: Core, account_id: str, secret: str, calls: int) -> None:
    """Two customers with settled calls, and one call left open (a hold)."""
    principal = Principal(account_id=account_id, livemode=True, scopes=frozenset({"api:write", "api:read"}))
    refs = [
        (await customers.create(core, principal, customers.CustomerInput(external_id=name)))[0].id
        for name in ("a", "b")
    ]
    for number in range(calls):
        admitted = await authorize(core, _call(secret, refs[number % 2]))
        assert isinstance(admitted, Admission), admitted
        tokens = Usage(input_tokens=5 + number, output_tokens=3 * number + 1)
        await settle(core, SettleCall(admitted.hold.id, tokens, "completed", False, "m"))
    assert isinstance(await authorize(core, _call(secret, refs[0])), Admission)


def _view(state: State) -> dict[str, Any]:
    return {
        "accounts": sorted(state.accounts),
        "keys": sorted(state.keys_by_id),
        "customers": {
            c.id: (c.account_id, c.spent_nano, c.request_count, c.held_nano, c.wallet_balance_nano)
            for c in state.customers.values()
        },
        "holds": sorted(state.holds),
        "prepaid": {a: (p.balance_nano, p.held_nano) for a, p in state.prepaid.items()},
    }


async def test_the_filtered_load_equals_the_whole_load_kept_in_memory(database: str, tmp_path: pathlib.Path) -> None:
    core = await open_core(Settings(data_dir=tmp_path, database_url=database, log_level="WARNING"))
    try:
        first = await accounts.bootstrap(core)
        assert first is not None
        admin = Principal(account_id=first.account.id, livemode=True, scopes=frozenset(), admin=True)
        second = await create_account(core, admin, "second")
        await _traffic(core, first.account.id, first.live_key.secret, 5)
        await _traffic(core, second.account.id, second.live_key.secret, 3)
        now = core.now()
    finally:
        await core.writer.close()
        if core.partition_leases is not None:
            core.partition_leases.release()
        core.engine.dispose()
    restarted = await open_core(Settings(data_dir=tmp_path, database_url=database, log_level="WARNING"))
    try:
        whole = _view(load_state(restarted.engine, now))
        assert len(whole["customers"]) == 4 and len(whole["holds"]) == 2
        for wanted in ({first.account.id}, {second.account.id}, set(), {first.account.id, second.account.id}):
            owned = wanted.__contains__
            filtered = _view(load_state(restarted.engine, now, owned))
            kept = _view(state_partitions.keep_only(load_state(restarted.engine, now), owned))
            assert filtered == kept, wanted
            assert filtered["accounts"] == sorted(wanted)
            assert {c[0] for c in filtered["customers"].values()} == wanted
        assert all(spent for _, spent, *_ in whole["customers"].values())  # the spend was compared, not zeros
    finally:
        await restarted.writer.close()
        if restarted.partition_leases is not None:
            restarted.partition_leases.release()
        restarted.engine.dispose()
