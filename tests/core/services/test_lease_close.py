"""A lease's closing report that carries calls lands as one commit — its calls posted and what the
lease did not use released together, never one without the other — on SQLite and PostgreSQL, and the
core's memory after it is what a restart loads from the database."""

from __future__ import annotations

import pathlib

import pytest

from core.server import open_core
from core.services import accounts, customers
from core.services.core import Principal
from core.services.leases import settle_lease_calls
from ringside_server.money import billable_nano, cost_nano
from tests.core.services.lease_calls import PRICE, USAGE, lease_with_calls
from tests.core.store.conftest import core_settings


@pytest.mark.parametrize("with_new_admissions", [False, True])
async def test_a_closing_report_with_calls_is_one_commit(
    database: str, tmp_path: pathlib.Path, with_new_admissions: bool
) -> None:
    core = await open_core(core_settings(tmp_path, database))
    try:
        new = await accounts.bootstrap(core)
        assert new is not None
        principal = Principal(account_id=new.account.id, livemode=True, scopes=frozenset({"api:write", "api:read"}))
        budgeted = customers.CustomerInput(external_id="c", budget_nano=10**12)
        customer, _ = await customers.create(core, principal, budgeted)
        granted = await lease_with_calls(core, new.live_key.secret, customer.id, 3)
        lease, estimate, admissions = granted.lease, granted.estimate_nano, granted.admissions
        if not with_new_admissions:  # admitted in an earlier report; else the closing one names them first
            await settle_lease_calls(core, lease.id, [], False, admissions)
        commits = core.writer.commits

        recorded, closed, _ = await settle_lease_calls(core, lease.id, granted.finished, True, admissions)

        assert (recorded, closed) == (3, True)
        assert core.writer.commits == commits + 1  # the calls, the release and the state change together
        posted = 3 * min(billable_nano(cost_nano(USAGE, PRICE), lease.markup_bp), estimate)
        in_memory = core.state.customers[customer.id]
        assert lease.id not in core.state.holds
        assert (in_memory.spent_nano, in_memory.held_nano) == (posted, 0)
    finally:
        await core.writer.close()
        core.engine.dispose()
    restarted = await open_core(core_settings(tmp_path, database))
    try:
        loaded = restarted.state.customers[customer.id]
        assert (loaded.spent_nano, loaded.held_nano) == (posted, 0)
        assert lease.id not in restarted.state.holds
    finally:
        await restarted.writer.close()
        restarted.engine.dispose()
