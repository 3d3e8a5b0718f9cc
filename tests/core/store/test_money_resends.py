"""A wallet movement or an account's prepaid top-up sent again after its call was cut off (the
core may have made it, then died or stopped before answering: issue 25): under the id its caller
chose (`wtx_…`, `tr_…`), the repeat is answered with the movement the first made and moves nothing
(SQLite and PostgreSQL) — also a debit the balance no longer allows a second time, a refund of all
that was left, and a repeat reaching a core that did not make the first (the taker: only the
database knows it). An id naming another movement is refused."""

from __future__ import annotations

import pathlib
from collections.abc import AsyncIterator

import pytest

from core.domain.calls import CallRequest
from core.domain.metering import Admission
from core.server import open_core
from core.services import accounts, customers, metering, system, wallets
from core.services.core import Core, Principal
from ringside_server.errors import RingsideError
from ringside_server.ids import new_sortable_id
from ringside_server.money import Price, Usage
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
    principal, customer_id, _ = await _prepaid_customer(core)
    return principal, customer_id


async def _prepaid_customer(core: Core) -> tuple[Principal, str, str]:
    """(principal, a customer whose wallet pays its calls, the account's live key)."""
    new = await accounts.bootstrap(core)
    assert new is not None
    principal = Principal(account_id=new.account.id, livemode=True, scopes=frozenset({"api:write", "api:read"}))
    customer, _ = await customers.create(core, principal, customers.CustomerInput(wallet_enabled=True))
    return principal, customer.id, new.live_key.secret


async def _debit(core: Core, principal: Principal, secret: str, customer_id: str) -> str:
    """A call paid from the wallet: its debit's `wtx_…`."""
    call = CallRequest(
        api_key=secret,
        customer_ref=customer_id,
        user="",
        model_ref="fc:openai/gpt-4o-mini",
        provider="openai",
        price=Price(input=150_000_000, output=600_000_000),
        input_tokens_bound=1_000,
        requested_output_tokens=1_000,
        model_max_output_tokens=16_384,
    )
    admitted = await metering.authorize(core, call)
    assert isinstance(admitted, Admission), admitted
    usage = Usage(input_tokens=1_000, output_tokens=1_000)
    await metering.settle(core, metering.SettleCall(admitted.hold.id, usage, "completed", False, "m"))
    _, listed, _ = await wallets.wallet(core, principal, customer_id, 10, "", "")
    debits = [tx for tx in listed if tx.type == "debit"]
    assert len(debits) == 1
    return debits[0].id


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


async def test_a_resent_refund_gives_back_once(core: Core) -> None:
    """A partial refund resent: given back once (before: twice, within the debit); a refund of all
    that is left resent: answered as the first, not refused for nothing being left."""
    principal, customer_id, secret = await _prepaid_customer(core)
    await wallets.top_up(core, principal, customer_id, 5 * USD, "in", new_sortable_id("wtx"))
    debit = await _debit(core, principal, secret, customer_id)
    part, rest = new_sortable_id("wtx"), new_sortable_id("wtx")

    first = await wallets.refund(core, principal, customer_id, debit, 1_000, part)
    assert await wallets.refund(core, principal, customer_id, debit, 1_000, part) == first
    everything = await wallets.refund(core, principal, customer_id, debit, 0, rest)
    assert await wallets.refund(core, principal, customer_id, debit, 0, rest) == everything
    with pytest.raises(RingsideError) as refused:  # the same refund id for another debit's refund
        await wallets.refund(core, principal, customer_id, "wtx_0VcrH5t0V6db1IRSKQf7Dn1a", 0, rest)
    assert refused.value.code == "not_found"  # no such debit: nothing read under the id

    _, listed, _ = await wallets.wallet(core, principal, customer_id, 10, "", "")
    assert [tx.id for tx in listed if tx.type == "refund"] == [rest, part]
    assert core.state.customers[customer_id].wallet_balance_nano == 5 * USD  # all of the debit back, once
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


async def test_a_resent_account_top_up_credits_once(core: Core) -> None:
    """The operator's TopUpAccountBalance under the edge's `tr_…`: a resend is answered with the
    first transfer; an id naming another transfer is refused."""
    new = await accounts.bootstrap(core)
    assert new is not None
    operator = Principal(admin=True)
    chosen = new_sortable_id("tr")
    _, first = await accounts.top_up_balance(core, operator, new.account.id, 7 * USD, "funds", chosen)
    _, again = await accounts.top_up_balance(core, operator, new.account.id, 7 * USD, "funds", chosen)
    assert first == again == chosen
    assert accounts.prepaid_balance(core, new.account.id) == 7 * USD
    with pytest.raises(RingsideError) as refused:
        await accounts.top_up_balance(core, operator, new.account.id, 8 * USD, "funds", chosen)
    assert (refused.value.code, refused.value.param) == ("invalid_request", "transfer_id")
    assert accounts.prepaid_balance(core, new.account.id) == 7 * USD
    await _balanced(core)
