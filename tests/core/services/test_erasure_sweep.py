"""The erasure sweep (every second) reads the customers whose erasure is pending, not every
customer: a pending erasure is found however its customer came into memory — asked here, loaded
at start, or adopted with a partition — and one erased or handed back is forgotten."""

from __future__ import annotations

import asyncio
import pathlib
import time
from collections.abc import AsyncIterator

import pytest

from core.domain import state_partitions
from core.server import open_core
from core.services import accounts, customers, erasure
from core.services.core import Core, Principal
from core.store.loader import load_state
from ringside_server.settings import Settings

ADMIN = frozenset({"api:write", "api:read", "api:admin"})


def _settings(tmp_path: pathlib.Path) -> Settings:
    return Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path}/r.db", log_level="WARNING")


async def _closed(core: Core) -> None:
    await core.writer.close()
    core.engine.dispose()


@pytest.fixture
async def core(tmp_path: pathlib.Path) -> AsyncIterator[Core]:
    opened = await open_core(_settings(tmp_path))
    try:
        yield opened
    finally:
        await _closed(opened)


def _ready(core: Core) -> list[str]:
    return [customer.id for customer in erasure.ready(core)]


async def test_a_pending_erasure_is_swept_however_its_customer_came_into_memory(
    core: Core, tmp_path: pathlib.Path
) -> None:
    new = await accounts.bootstrap(core)
    assert new is not None
    principal = Principal(account_id=new.account.id, livemode=True, scopes=ADMIN)
    erased, _ = await customers.create(core, principal, customers.CustomerInput(external_id="erased-soon"))
    await customers.create(core, principal, customers.CustomerInput(external_id="kept"))
    assert _ready(core) == []
    await erasure.request(core, principal, erased.id, force=True)
    assert _ready(core) == [erased.id]  # asked here

    # handed back with its partition (the sweep forgets it), then adopted again from the database
    state_partitions.drop(core.state, lambda account_id: True)
    assert _ready(core) == [] and core.state.erasures_pending == set()
    state_partitions.adopt(core.state, load_state(core.engine, int(time.time())))
    assert _ready(core) == [erased.id]

    await erasure.complete(core, core.state.customers[erased.id])
    assert _ready(core) == [] and core.state.erasures_pending == set()  # erased: forgotten

    other, _ = await customers.create(core, principal, customers.CustomerInput(external_id="erased-later"))
    await erasure.request(core, principal, other.id, force=True)
    await _closed(core)
    for lazy in (False, True):  # loaded at start: at once, or by the background load (as served)
        restarted = await open_core(_settings(tmp_path), lazy=lazy)
        try:
            if restarted.customer_load is not None:
                await asyncio.wait_for(restarted.customer_load.wait(), 30)
            assert _ready(restarted) == [other.id], lazy
        finally:
            await _closed(restarted)
