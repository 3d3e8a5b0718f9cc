"""A wallet's history read page by page (core/store/wallet_history.py, by keyset): the pages, forward
with starting_after and back with ending_before, make the whole history, newest first, each
transaction with the balance after it — the chain from zero the ledger gives (SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
import pathlib
import random

import pytest

from core.server import open_core
from core.services import accounts, customers, wallets
from core.services.core import Principal
from core.services.wallets import WalletTransaction
from ringside_server.errors import RingsideError
from tests.core.store.conftest import core_settings

MOVES = 23
PAGE = 5


async def test_pages_make_the_history_with_its_balances(database: str, tmp_path: pathlib.Path) -> None:
    core = await open_core(core_settings(tmp_path, database))
    try:
        new = await accounts.bootstrap(core)
        assert new is not None
        principal = Principal(account_id=new.account.id, livemode=True, scopes=frozenset({"api:write", "api:read"}))
        customer, _ = await customers.create(core, principal, customers.CustomerInput())
        other, _ = await customers.create(core, principal, customers.CustomerInput())
        rng = random.Random(7)
        moved: list[WalletTransaction] = []
        for n in range(MOVES):  # money in and out: both sides of the wallet's ledger account
            if n % 4 == 3:
                moved.append(await wallets.adjust(core, principal, customer.id, -rng.randint(1, 1_000), "out"))
            else:
                moved.append(await wallets.top_up(core, principal, customer.id, rng.randint(1_000, 10**6), "in"))
        foreign = await wallets.top_up(core, principal, other.id, 5, "")
        # (a listed top-up or adjustment names no request: the id is the operation's own)
        newest_first = [dataclasses.replace(tx, request_id="") for tx in reversed(moved)]
        running = 0
        for tx in moved:
            running += tx.amount_nano
            assert tx.balance_after_nano == running

        forward: list[list[WalletTransaction]] = []
        cursor, more = "", True
        while more:
            _, items, more = await wallets.wallet(core, principal, customer.id, PAGE, cursor, "")
            forward.append(items)
            cursor = items[-1].id
        assert [tx for page in forward for tx in page] == newest_first
        assert [len(page) for page in forward] == [5, 5, 5, 5, 3]

        backward: list[list[WalletTransaction]] = []
        cursor, more = forward[-1][0].id, True
        while more:
            _, items, more = await wallets.wallet(core, principal, customer.id, PAGE, "", cursor)
            backward.insert(0, items)
            cursor = items[0].id
        assert backward == forward[:-1]

        _, first, _ = await wallets.wallet(core, principal, customer.id, 0, "", "")
        assert first == newest_first[:10]  # the default page
        for cursor in (foreign.id, "wtx_nope", moved[0].id.replace("wtx_", "wtx_x")):
            with pytest.raises(RingsideError) as refused:
                await wallets.wallet(core, principal, customer.id, PAGE, cursor, "")
            assert (refused.value.code, refused.value.param) == ("invalid_request", "starting_after")
        with pytest.raises(RingsideError):
            await wallets.wallet(core, principal, customer.id, 101, "", "")
    finally:
        await core.writer.close()
        core.engine.dispose()
