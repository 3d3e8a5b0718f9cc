"""The Stripe sync plans the live customers with a Stripe id, by id, read from the database's
partial index of them (issue 24: no sort of every customer per batch). Every path that sets or
clears a Stripe id reaches it — create, update, deletion, erasure — the plan keeps to the tenants
that sync and to the accounts this core serves (a partition handed back, then adopted again), and
it needs no customer in memory (a partition or a start still loading). SQLite and PostgreSQL."""

from __future__ import annotations

import pathlib
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy.dialects import sqlite

from core.domain import state_partitions
from core.domain.entities import SCOPES
from core.server import open_core
from core.services import accounts, customers, deletions, erasure, partition_share, stripe_sync
from core.services.core import Core, Principal
from core.services.customers import CustomerChanges, CustomerInput
from core.store.billing import synced_page
from core.store.engine import make_engine
from core.store.migrate import upgrade
from ringside_server.partitions import partition_of
from ringside_server.settings import Settings
from tests.harness import create_postgres_database, drop_postgres_database


@dataclass
class World:
    core: Core
    live: Principal
    test: Principal


@pytest.fixture(params=["sqlite", "postgres"])
async def world(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> AsyncIterator[World]:
    url = None if request.param == "sqlite" else create_postgres_database()
    core = await open_core(Settings(data_dir=tmp_path, database_url=url, log_level="WARNING"))
    try:
        new = await accounts.bootstrap(core)
        assert new is not None
        live = Principal(account_id=new.account.id, livemode=True, scopes=frozenset(SCOPES))
        test = Principal(account_id=new.account.id, livemode=False, scopes=frozenset(SCOPES))
        # The live mode syncs; the test mode has no settings, so its customers are never planned.
        await stripe_sync.put_settings(core, live, "sk_live_" + secrets.token_hex(8), "ringside_usage", "")
        yield World(core, live, test)
    finally:
        await core.writer.close()
        core.engine.dispose()
        if url is not None:
            drop_postgres_database(url)


async def planned(core: Core) -> list[str]:
    """The customers a whole run plans, one batch of one at a time (each batch's last id is its
    customer), checked against the same run in batches of two."""
    run_id = "run-" + secrets.token_hex(4)
    after, more, seen = "", True, []
    while more:
        _, last, more = await stripe_sync.plan(core, run_id, after, 1)
        if last != after:
            seen.append(last)
        after = last
    pairs, after, more = [], "", True
    while more:
        _, after, more = await stripe_sync.plan(core, run_id + "-2", after, 2)
        pairs.append(after)
    assert pairs == ([seen[min(i + 1, len(seen) - 1)] for i in range(0, len(seen), 2)] or [""])
    return seen


async def new_customer(world: World, stripe_id: str, principal: Principal | None = None) -> str:
    fields = CustomerInput(external_id="c_" + secrets.token_hex(4), stripe_customer_id=stripe_id)
    customer, _ = await customers.create(world.core, principal or world.live, fields)
    return customer.id


async def test_a_run_plans_the_live_customers_with_a_stripe_id_by_id(world: World) -> None:
    synced = [await new_customer(world, f"cus_s{n}") for n in range(5)]
    await new_customer(world, "")  # no Stripe id
    await new_customer(world, "cus_test", world.test)  # a tenant without settings
    assert await planned(world.core) == sorted(synced)


async def test_an_update_that_sets_or_clears_the_stripe_id_moves_the_customer_in_or_out(world: World) -> None:
    core = world.core
    kept, joining = await new_customer(world, "cus_kept"), await new_customer(world, "")
    leaving = await new_customer(world, "cus_leaving")
    await customers.update(core, world.live, joining, CustomerChanges(stripe_customer_id="cus_joined"))
    await customers.update(core, world.live, leaving, CustomerChanges(stripe_customer_id=""))
    assert await planned(core) == sorted([kept, joining])


async def test_a_deleted_or_erased_customer_is_no_longer_planned(world: World) -> None:
    core = world.core
    kept, deleted, erased = [await new_customer(world, f"cus_{n}") for n in ("kept", "deleted", "erased")]
    assert await planned(core) == sorted([kept, deleted, erased])
    await deletions.delete(core, world.live, deleted, False)
    await erasure.request(core, world.live, erased, False)
    assert await planned(core) == sorted([kept, erased])  # pending: its Stripe id is still kept
    await erasure.complete(core, core.state.customers[erased])
    assert await planned(core) == [kept]


async def test_a_partition_handed_back_is_left_to_its_next_owner_and_planned_again_once_adopted(
    world: World,
) -> None:
    core = world.core
    synced = sorted([await new_customer(world, f"cus_p{n}") for n in range(3)])
    ownership, count = core.ownership, core.ownership.partitions
    mine = partition_of(world.live.account_id, count)
    # What hand_back does before it releases the lease (core/services/partition_share.py).
    ownership.serving = frozenset(range(count)) - {mine}
    state_partitions.drop(core.state, state_partitions.in_partitions({mine}, count))
    assert await planned(core) == []
    await partition_share.adopt_partitions(core, {mine}, count)
    assert synced[0] in core.state.customers
    assert await planned(core) == synced


async def test_the_plan_needs_no_customer_in_memory(world: World) -> None:
    core = world.core
    synced = sorted([await new_customer(world, f"cus_m{n}") for n in range(3)])
    # The account's objects gone from the hot state (as before a lazy load or an adoption reaches
    # them); the core still serves the account.
    state_partitions.drop(core.state, lambda account_id: account_id == world.live.account_id)
    assert not core.state.customers
    assert await planned(core) == synced


def test_sqlite_reads_a_batch_from_the_index_without_sorting(tmp_path: pathlib.Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/plan.db")
    try:
        upgrade(engine)
        sql = str(synced_page("cus_0", 501).compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
        with engine.connect() as connection:
            steps = [str(row[-1]) for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + sql)]
    finally:
        engine.dispose()
    assert any("ix_customers_stripe_synced" in step for step in steps), steps
    assert not any("TEMP B-TREE" in step for step in steps), steps
