"""A lease's closing report that carries calls lands as one commit — its calls posted and what the
lease did not use released together, never one without the other — on SQLite and PostgreSQL, and the
core's memory after it is what a restart loads from the database."""

from __future__ import annotations

import pathlib

import pytest

from core.domain.calls import CallRequest
from core.domain.entities import LeaseAdmission
from core.domain.metering import Admission
from core.domain.settlement import FinishedCall
from core.server import open_core
from core.services import accounts, customers
from core.services.core import Principal
from core.services.metering import acquire_lease, settle_lease_calls
from ringside_server.ids import new_sortable_id
from ringside_server.money import Price, Usage, billable_nano, cost_nano
from tests.core.store.conftest import core_settings

PRICE = Price(input=150_000_000, output=600_000_000)
USAGE = Usage(input_tokens=30, output_tokens=20)


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
        call = CallRequest(
            api_key=new.live_key.secret,
            customer_ref=customer.id,
            user="",
            model_ref="fc:openai/gpt-4o-mini",
            provider="openai",
            price=PRICE,
            input_tokens_bound=40,
            requested_output_tokens=32,
            model_max_output_tokens=16_384,
        )
        granted = await acquire_lease(core, call, 4)
        assert isinstance(granted, Admission), granted
        lease = granted.hold
        estimate = lease.amount_nano // 4
        ids = [new_sortable_id("req") for _ in range(3)]
        admissions = [LeaseAdmission(i, lease.id, lease.model_ref, lease.provider, estimate, core.now()) for i in ids]
        if not with_new_admissions:  # admitted in an earlier report; else the closing one names them first
            await settle_lease_calls(core, lease.id, [], False, admissions)
        finished = [
            FinishedCall(i, lease.model_ref, lease.provider, PRICE, estimate, USAGE, "completed", False, "m")
            for i in ids
        ]
        commits = core.writer.commits

        recorded, closed, _ = await settle_lease_calls(core, lease.id, finished, True, admissions)

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
