"""Billing periods across two month boundaries on Temporal's time-skipping server: calls on both
sides and one in flight across the first boundary; each period closes once, after its last hold
resolved; budgets reset and `customer.budget_exceeded` fires again in the next period."""

from __future__ import annotations

import asyncio
import json
import pathlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.workers.billing_core import InProcessCore, core_on
from tests.workers.conftest import time_skipping
from workers.billing.activities import BillingActivities, billing_activities
from workers.billing.shared import RolloverInput, RolloverResult
from workers.billing.workflows import BillingPeriodRolloverWorkflow, StripeUsageSyncWorkflow

BUDGET_NANO = 1_000_000  # $0.001
SMALL = (100, 100)  # 100 × 150 + 100 × 600 = 75,000 nano-USD
SMALL_NANO = 75_000
TOO_BIG_INPUT = 10_000
START = datetime(
    2026, 11, 25, 12, tzinfo=UTC
)  # the core's clock; Temporal skips its own waits  # 1.5M nano-USD of input alone: over the whole budget


def month_start(moment: datetime, months_ahead: int) -> datetime:
    month = moment.month - 1 + months_ahead
    return datetime(moment.year + month // 12, month % 12 + 1, 1, tzinfo=UTC)


@pytest.fixture
async def skipping() -> AsyncIterator[WorkflowEnvironment]:
    """A test server per test, as before: no earlier test has moved the clock its workflows see."""
    async with time_skipping() as env:
        yield env


@pytest.fixture(params=["sqlite", "postgres"])
async def core(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> AsyncIterator[InProcessCore]:
    async with core_on(request.param, tmp_path, START.timestamp()) as running:
        yield running


async def _refused_for_budget(core: InProcessCore, customer_id: str) -> None:
    refused = await core.authorize(customer_id, TOO_BIG_INPUT, 10)
    assert not refused.allowed and refused.denial.code == "customer_budget_exceeded"


async def test_two_month_boundaries(skipping: WorkflowEnvironment, core: InProcessCore) -> None:
    queue = f"billing-{uuid.uuid4()}"
    activities = billing_activities(BillingActivities(core.client, "http://127.0.0.1:9"))
    async with Worker(
        skipping.client,
        task_queue=queue,
        workflows=[BillingPeriodRolloverWorkflow, StripeUsageSyncWorkflow],
        activities=activities,
    ):

        async def rollover() -> RolloverResult:
            return await skipping.client.execute_workflow(
                BillingPeriodRolloverWorkflow.run,
                RolloverInput("test"),
                id=f"rollover-{uuid.uuid4()}",
                task_queue=queue,
            )

        first_month = START
        customer_id = await core.new_customer(BUDGET_NANO)

        # Month 1: a call, a refusal for budget (fires the event), and a call still in flight.
        await core.call(customer_id, *SMALL)
        in_flight = await core.authorize(customer_id, *SMALL)
        assert in_flight.allowed
        await _refused_for_budget(core, customer_id)
        assert (await core.customer(customer_id)).budget_status == "exceeded"
        assert await rollover() == RolloverResult(0, 0, 1)  # nothing has ended yet

        # Month 2 starts: the budget is fresh (a call passes, status is ok) while the call goes on.
        core.move_to(month_start(first_month, 1) + timedelta(seconds=30))
        assert (await core.customer(customer_id)).budget_status == "ok"
        await core.call(customer_id, *SMALL)
        handle = await skipping.client.start_workflow(
            BillingPeriodRolloverWorkflow.run, RolloverInput("test"), id=f"rollover-{uuid.uuid4()}", task_queue=queue
        )

        async def waiting() -> bool:
            progress = await handle.query(BillingPeriodRolloverWorkflow.progress)
            return progress.rounds >= 1 and progress.waiting == 1

        for _ in range(400):  # the first round found month 1 waiting on its open hold
            if await waiting():
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the rollover never reported the open hold")
        assert await core.periods(customer_id) == []

        await core.settle(in_flight.request_id, *SMALL)  # the call ends: month 1 can close
        result = await handle.result()  # time skips through the recheck wait
        assert result.closed == 1 and result.waiting == 0 and result.rounds == 2
        [closed] = await core.periods(customer_id)
        assert closed.period_start == int(month_start(first_month, 0).timestamp())
        assert closed.period_end == int(month_start(first_month, 1).timestamp())
        assert (closed.request_count, closed.billable_nano_usd) == (2, 2 * SMALL_NANO)  # the in-flight call too
        assert closed.cost_nano_usd == 2 * SMALL_NANO and (closed.input_tokens, closed.output_tokens) == (200, 200)

        # Month 2: spend up to the cap again; the refusal fires the event again, for this period.
        await _refused_for_budget(core, customer_id)
        assert (await core.customer(customer_id)).budget_status == "exceeded"

        # Month 3: the rollover closes month 2 once; re-runs close nothing more.
        core.move_to(month_start(first_month, 2) + timedelta(hours=1))
        assert (await rollover()).closed == 1
        assert (await rollover()).closed == 0
        second, first = await core.periods(customer_id)
        assert first.id == closed.id and second.period_start == closed.period_end
        assert (second.request_count, second.billable_nano_usd) == (1, SMALL_NANO)
        assert (await core.customer(customer_id)).budget_status == "ok"
        await _refused_for_budget(core, customer_id)

    exceeded = core.events(customer_id, "customer.budget_exceeded")
    assert len(exceeded) == 3 and len({key for key, _ in exceeded}) == 3  # once per period
    closed_events = [json.loads(body) for _, body in core.events(customer_id, "customer.period_closed")]
    assert [e["data"]["period"]["id"] for e in closed_events] == [first.id, second.id]
    assert closed_events[0]["data"]["period"]["total_billable_usd"] == 2 * SMALL_NANO / 1e9
