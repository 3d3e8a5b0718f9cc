"""A wallet movement sent again after its call was cut off (the core may have made it, then died or
stopped before answering: issue 25): under the `wtx_…` id its caller chose, the repeat is answered
with the movement the first made and moves nothing (SQLite and PostgreSQL) — also a debit the
balance no longer allows a second time, and a repeat reaching a core that did not make the first
(the taker: only the database knows it). An id naming another movement is refused."""

from __future__ import annotations

import pathlib
from collections.abc import AsyncIterator

import pytest

from core.server import open_core
from core.services import accounts, customers, system, wallets
from core.services.core import Core, Principal
from ringside_server.errors import RingsideError
from ringside_server.ids import new_sortable_id
from tests.core.store.conftest import core_settings

USD = 1_000_000_000


@pytest.fixture
async def core(database: str, tmp_path: pathlib.Path) -> AsyncIterator[Core]:
    opened = await open_core(core_settings(tmp_path, database))
    try:
        yield opened
    finally:
        await _close(opened)


async def _close(core: Core) -> None:
    await core.writer.close()
    core.engine.dispose()


async def _customer(core: Core) -> tuple[Principal, str]:
    new = await accounts.bootstrap(core)
    assert new is not None
    principal = Principal(account_id=new.account.id, livemode=True, scopes=frozenset({"api:write", "api:read"}))
    customer, _ = await customers.create(core, principal, customers.CustomerInput())
    return principal, customer.id


async def _balanced(core: Core) -> None:
    audit = await system.verify_ledger(core)
    assert (audit.imbalance_nano, audit.invalid_transfers, audit.memory_mismatches) == (0, 0, 0)


async def test_a_resent_top_up_and_adjust_move_money_once(core: Core) -> None:
    principal, customer_id = await _customer(core)
    top_up_id, adjust_id = new_sortable_id("wtx"), new_sortable_id("wtx")

    first = await wallets.top_up(core, principal, customer_id, 5 * USD, "in", top_up_id)
    again = await wallets.top_up(core, principal, customer_id, 5 * USD, "in", top_up_id)
    assert first.id == again.id == top_up_id
    assert again == first
    taken = await wallets.adjust(core, principal, customer_id, -4 * USD, "out", adjust_id)
    # a second debit of 4 would take the wallet below zero: the repeat is the first's answer
    assert await wallets.adjust(core, principal, customer_id, -4 * USD, "out", adjust_id) == taken
    assert taken.balance_after_nano == 1 * USD

    assert core.state.customers[customer_id].wallet_balance_nano == 1 * USD
    _, listed, _ = await wallets.wallet(core, principal, customer_id, 10, "", "")
    assert [tx.id for tx in listed] == [adjust_id, top_up_id]
    await _balanced(core)


async def test_a_resend_reaching_another_core_is_answered_from_the_database(
    core: Core, tmp_path: pathlib.Path, database: str
) -> None:
    """The core that made the top-up stopped before answering; the taker loads the wallet from the
    database and answers the resend with that movement."""
    principal, customer_id = await _customer(core)
    chosen = new_sortable_id("wtx")
    first = await wallets.top_up(core, principal, customer_id, 2 * USD, "in", chosen)
    await _close(core)
    taker = await open_core(core_settings(tmp_path, database))
    try:
        assert await wallets.top_up(taker, principal, customer_id, 2 * USD, "in", chosen) == first
        assert taker.state.customers[customer_id].wallet_balance_nano == 2 * USD
        await _balanced(taker)
    finally:
        await _close(taker)


async def test_an_id_naming_another_movement_is_refused(core: Core) -> None:
    principal, customer_id = await _customer(core)
    chosen = new_sortable_id("wtx")
    await wallets.top_up(core, principal, customer_id, 3 * USD, "in", chosen)
    for move in (
        wallets.top_up(core, principal, customer_id, 1 * USD, "in", chosen),  # another amount
        wallets.adjust(core, principal, customer_id, 3 * USD, "why", chosen),  # another kind
        wallets.top_up(core, principal, customer_id, 3 * USD, "in", "wtx_short"),  # not an id of ours
    ):
        with pytest.raises(RingsideError) as refused:
            await move
        assert (refused.value.code, refused.value.param) == ("invalid_request", "transaction_id")
    assert core.state.customers[customer_id].wallet_balance_nano == 3 * USD
    await _balanced(core)
