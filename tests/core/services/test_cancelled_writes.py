"""A caller cancelled while its write commits (a gRPC deadline, a client gone) never leaves memory
behind the database (issue 13, item 4): the write lands and the core's memory already matches what
a restart would load from the database, on SQLite and PostgreSQL.

Each test holds the writer's commit at a gate, cancels the caller while its records wait there,
then opens the gate and compares memory with a fresh load of the database."""

from __future__ import annotations

import asyncio
import pathlib
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from core.domain.calls import CallRequest
from core.domain.metering import Admission
from core.domain.state import State
from core.services import accounts, customers, files, metering, slots, tiers, wallets
from core.services.core import Core, Principal
from core.services.customers import CustomerChanges, CustomerInput
from core.services.tiers import TierFields
from core.store.loader import load_state
from core.store.tables import HOLDS
from ringside_server.money import Usage
from tests.core.services.bootstrapped import bootstrapped_core, model_call

TIMEOUT_S = 30.0


class CommitGate:
    """Holds every commit of the writer until opened; tells when the first one is waiting."""

    def __init__(self, core: Core, monkeypatch: pytest.MonkeyPatch) -> None:
        self.waiting = threading.Event()
        self.opened = threading.Event()
        commit = core.writer._commit

        def gated(batch: list[Any]) -> None:
            self.waiting.set()
            if not self.opened.wait(TIMEOUT_S):
                raise TimeoutError("the test never opened the commit gate")
            commit(batch)

        monkeypatch.setattr(core.writer, "_commit", gated)


@dataclass
class World:
    core: Core
    principal: Principal
    monkeypatch: pytest.MonkeyPatch
    live_secret: str

    async def cancelled_mid_commit(self, operation: Callable[[], Awaitable[object]]) -> None:
        """Start `operation`, cancel it once its write waits in the commit, then let it commit."""
        gate = CommitGate(self.core, self.monkeypatch)
        task = asyncio.ensure_future(operation())
        loop = asyncio.get_running_loop()
        assert await loop.run_in_executor(None, gate.waiting.wait, TIMEOUT_S), "no write reached the commit"
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        gate.opened.set()
        self.monkeypatch.undo()
        # The writer answers in order: once this empty write is durable, so is the cancelled one.
        await self.core.writer.write([])

    async def background_done(self) -> None:
        """Wait (bounded) for what the core runs after a cancelled caller, e.g. a hold's void."""
        deadline = asyncio.get_running_loop().time() + TIMEOUT_S
        while self.core.background and asyncio.get_running_loop().time() < deadline:
            await asyncio.wait(set(self.core.background), timeout=TIMEOUT_S)
        assert not self.core.background, "background work still running"
        await self.core.writer.write([])

    def call(self, customer_id: str) -> CallRequest:
        return model_call(self.live_secret, customer_id)

    async def open_holds_in_database(self) -> int:
        def count() -> int:
            with self.core.engine.connect() as connection:
                return int(connection.execute(select(func.count()).where(HOLDS.c.state == "open")).scalar_one())

        return await asyncio.get_running_loop().run_in_executor(None, count)

    async def reloaded(self) -> State:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, load_state, self.core.engine, self.core.now())


def _live(rows: dict[str, Any]) -> dict[str, Any]:
    return {key: row for key, row in rows.items() if row.deleted_at is None}


@pytest.fixture(params=["sqlite", "postgres"])
async def world(
    request: pytest.FixtureRequest, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[World]:
    async with bootstrapped_core(request.param, tmp_path) as opened:
        yield World(opened.core, opened.principal, monkeypatch, opened.live_secret)


async def test_a_key_revoked_by_a_cancelled_caller_is_refused_at_once(world: World) -> None:
    core, principal = world.core, world.principal
    new = await accounts.create_key(core, principal, True, [], "to revoke")
    assert core.meter.authenticate(new.secret) is not None

    await world.cancelled_mid_commit(lambda: accounts.delete_key(core, principal, new.key.id))

    assert core.meter.authenticate(new.secret) is None
    reloaded = await world.reloaded()
    assert reloaded.keys_by_id[new.key.id].revoked_at == core.state.keys_by_id[new.key.id].revoked_at is not None


async def test_a_key_created_by_a_cancelled_caller_works_at_once(world: World) -> None:
    core, principal = world.core, world.principal
    before = set(core.state.keys_by_id)

    await world.cancelled_mid_commit(lambda: accounts.create_key(core, principal, True, [], "made"))

    reloaded = await world.reloaded()
    assert set(core.state.keys_by_id) == set(reloaded.keys_by_id) != before
    assert set(core.state.keys_by_hash) == set(reloaded.keys_by_hash)


async def test_account_settings_changed_by_a_cancelled_caller_apply_at_once(world: World) -> None:
    core, principal = world.core, world.principal

    await world.cancelled_mid_commit(lambda: accounts.update_account_settings(core, principal, True, 2500, None))

    account = core.state.accounts[principal.account_id]
    assert (account.markup_bp, account.auto_create_customers) == (2500, True)
    assert (await world.reloaded()).accounts[principal.account_id] == account


async def test_a_tier_updated_by_a_cancelled_caller_is_updated_in_memory(world: World) -> None:
    core, principal = world.core, world.principal
    tier = await tiers.create(core, principal, TierFields(name="gold", budget_nano=5_000))
    change = TierFields(name="platinum", budget_nano=9_000, present=frozenset({"name", "budget_nano"}))

    await world.cancelled_mid_commit(lambda: tiers.update(core, principal, tier.id, change))

    found = core.state.find_tier(principal.account_id, True, "platinum")
    assert found is not None and found.budget_nano == 9_000
    assert core.state.find_tier(principal.account_id, True, "gold") is None
    reloaded = await world.reloaded()
    assert reloaded.tiers == core.state.tiers
    assert reloaded.tiers_by_name == core.state.tiers_by_name


async def test_a_tier_deleted_by_a_cancelled_caller_is_gone_from_memory(world: World) -> None:
    core, principal = world.core, world.principal
    tier = await tiers.create(core, principal, TierFields(name="gold"))

    await world.cancelled_mid_commit(lambda: tiers.delete(core, principal, tier.id))

    assert core.state.find_tier(principal.account_id, True, tier.id) is None
    reloaded = await world.reloaded()
    assert _live(reloaded.tiers) == _live(core.state.tiers) == {}  # a restart loads live tiers only
    assert reloaded.tiers_by_name == core.state.tiers_by_name == {}


async def test_a_tier_created_by_a_cancelled_caller_is_in_memory(world: World) -> None:
    core, principal = world.core, world.principal

    await world.cancelled_mid_commit(lambda: tiers.create(core, principal, TierFields(name="gold")))

    assert core.state.find_tier(principal.account_id, True, "gold") is not None
    assert (await world.reloaded()).tiers == core.state.tiers


async def test_a_slot_deleted_by_a_cancelled_caller_is_gone_from_memory(world: World) -> None:
    core, principal = world.core, world.principal
    slot = await slots.create(core, principal, "smart", "fc:openai/gpt-4o-mini")

    await world.cancelled_mid_commit(lambda: slots.delete(core, principal, slot.id))

    assert core.state.find_slot(principal.account_id, True, "smart") is None
    reloaded = await world.reloaded()
    assert _live(reloaded.slots) == _live(core.state.slots) == {}
    assert reloaded.slots_by_name == core.state.slots_by_name == {}


async def test_a_customer_updated_by_a_cancelled_caller_is_updated_in_memory(world: World) -> None:
    core, principal = world.core, world.principal
    customer, _ = await customers.create(core, principal, CustomerInput(external_id="u1", name="Ada"))
    change = CustomerChanges(external_id="u2", name="Grace", budget=(7_000,), metadata={"plan": "pro"})

    await world.cancelled_mid_commit(lambda: customers.update(core, principal, customer.id, change))

    assert core.state.find_customer(principal.account_id, True, "ext:u1") is None
    found = core.state.find_customer(principal.account_id, True, "ext:u2")
    assert found is not None
    assert (found.name, found.budget_nano, found.metadata) == ("Grace", 7_000, {"plan": "pro"})
    reloaded = await world.reloaded()
    assert reloaded.customers_by_external == core.state.customers_by_external
    again = reloaded.customers[customer.id]
    assert (again.name, again.budget_nano, again.metadata) == ("Grace", 7_000, {"plan": "pro"})


async def test_a_customer_created_by_a_cancelled_caller_is_in_memory(world: World) -> None:
    core, principal = world.core, world.principal

    await world.cancelled_mid_commit(
        lambda: customers.create(core, principal, CustomerInput(external_id="u9", name="Ada"))
    )

    assert core.state.find_customer(principal.account_id, True, "ext:u9") is not None
    assert core.pending_creates == {}
    reloaded = await world.reloaded()
    assert set(reloaded.customers) == set(core.state.customers)
    assert reloaded.customers_by_external == core.state.customers_by_external


async def test_a_wallet_top_up_by_a_cancelled_caller_is_in_the_balance(world: World) -> None:
    core, principal = world.core, world.principal
    customer, _ = await customers.create(core, principal, CustomerInput(wallet_enabled=True))

    await world.cancelled_mid_commit(lambda: wallets.top_up(core, principal, customer.id, 3_000_000_000, "gift"))

    assert customer.wallet_balance_nano == 3_000_000_000
    assert customer.held_nano == 0
    assert (await world.reloaded()).customers[customer.id].wallet_balance_nano == 3_000_000_000


async def test_a_hold_whose_caller_was_cancelled_is_voided_once_durable(world: World) -> None:
    core, principal = world.core, world.principal
    customer, _ = await customers.create(core, principal, CustomerInput(budget_nano=10**12))

    await world.cancelled_mid_commit(lambda: metering.authorize(core, world.call(customer.id)))
    await world.background_done()

    assert core.state.holds == {}
    assert customer.held_nano == 0
    assert await world.open_holds_in_database() == 0
    assert (await world.reloaded()).holds == {}


async def test_a_settle_whose_caller_was_cancelled_is_posted_and_applied(world: World) -> None:
    core, principal = world.core, world.principal
    customer, _ = await customers.create(core, principal, CustomerInput(budget_nano=10**12))
    admitted = await metering.authorize(core, world.call(customer.id))
    assert isinstance(admitted, Admission), admitted
    call = metering.SettleCall(admitted.hold.id, Usage(input_tokens=100, output_tokens=10), "completed", False, "")

    await world.cancelled_mid_commit(lambda: metering.settle(core, call))

    assert core.state.holds == {}
    assert (customer.held_nano, customer.spent_nano) == (0, 100 * 150 + 10 * 600)
    assert await world.open_holds_in_database() == 0
    reloaded = await world.reloaded()
    assert reloaded.holds == {}
    assert reloaded.customers[customer.id].spent_nano == customer.spent_nano
    # A repeated settle is answered from memory, as settled.
    assert (await metering.settle(core, call)).replayed


async def test_a_wallet_adjustment_by_a_cancelled_caller_releases_its_reservation(world: World) -> None:
    core, principal = world.core, world.principal
    customer, _ = await customers.create(core, principal, CustomerInput(wallet_enabled=True))
    await wallets.top_up(core, principal, customer.id, 5_000_000_000, "")

    await world.cancelled_mid_commit(lambda: wallets.adjust(core, principal, customer.id, -2_000_000_000, "fix"))

    assert (customer.wallet_balance_nano, customer.held_nano) == (3_000_000_000, 0)
    assert (await world.reloaded()).customers[customer.id].wallet_balance_nano == 3_000_000_000


async def test_a_file_recorded_by_a_cancelled_caller_is_in_memory_and_reloads(world: World) -> None:
    core, principal = world.core, world.principal
    digest = "ab" * 32

    await world.cancelled_mid_commit(
        lambda: files.create(core, principal, "file-Cancelled0001", "", "notes.md", "assistants", 12, digest)
    )

    assert core.state.files["file-Cancelled0001"].sha256 == digest
    assert (await world.reloaded()).files == core.state.files


async def test_a_file_deleted_by_a_cancelled_caller_is_gone_and_stays_gone(world: World) -> None:
    core, principal = world.core, world.principal
    await files.create(core, principal, "file-ToDelete00001", "", "notes.md", "assistants", 12, "cd" * 32)

    await world.cancelled_mid_commit(lambda: files.delete(core, principal, "file-ToDelete00001", ""))

    assert "file-ToDelete00001" not in core.state.files
    assert (await world.reloaded()).files == core.state.files == {}
