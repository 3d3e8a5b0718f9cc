"""core/domain/settlement.py: settle, expiry and late settles of call holds."""

from __future__ import annotations

from datetime import UTC, datetime

from core.domain import ledger
from core.domain.metering import Admission
from ringside_server.money import Usage, billable_nano, cost_nano
from tests.core.domain.world import (
    GPT_4O_MINI,
    HOLD_TTL_S,
    START,
    World,
    estimate,
    transfers,
)

# -- settle, expire, late settle -------------------------------------------------------------------


def test_settle_posts_the_actual_amount_and_releases_the_rest(world: World) -> None:
    customer = world.customer(budget_nano=10**9)
    admission = world.admitted(input_tokens=1_000, output_tokens=1_000)
    usage = Usage(input_tokens=800, output_tokens=200)
    plan = world.meter.plan_settle(admission.hold, usage, "completed", False, "gpt-4o-mini")
    actual = 800 * 150 + 200 * 600
    assert (plan.result.cost_nano, plan.result.billable_nano, plan.result.posted_nano) == (actual, actual, actual)
    assert plan.result.unbilled_nano == 0
    (post,) = transfers(plan.records, "post")
    assert (post.debit, post.credit, post.amount_nano) == (
        ledger.customer_spend("cus_1"),
        "acct_1:test:revenue",
        actual,
    )
    (cost,) = transfers(plan.records, "cost")
    assert cost.amount_nano == actual
    # Nothing changes in memory until the plan is durable and applied.
    assert customer.held_nano == admission.hold.amount_nano
    assert customer.spent_nano == 0
    world.meter.apply(plan)
    assert customer.held_nano == 0
    assert customer.spent_nano == actual
    assert customer.request_count == 1
    assert admission.hold.id not in world.state.holds
    assert world.state.settled.get(admission.hold.id) == plan.result


def test_settle_charges_the_marked_up_amount(world: World) -> None:
    world.account.markup_bp = 2_500
    customer = world.customer(budget_nano=10**9)
    admission = world.admitted(input_tokens=1_000, output_tokens=1_000)
    world.settle(admission, Usage(input_tokens=1, output_tokens=1))
    assert customer.spent_nano == 938  # (150 + 600) * 1.25 = 937.5, rounded up


def test_a_failed_call_is_not_counted_as_a_request(world: World) -> None:
    customer = world.customer(budget_nano=10**9)
    admission = world.admitted()
    world.meter.apply(world.meter.plan_settle(admission.hold, Usage(), "failed", False, ""))
    assert customer.request_count == 0
    assert customer.spent_nano == 0
    assert customer.held_nano == 0


def test_usage_above_the_hold_is_posted_at_the_hold_and_the_excess_is_unbilled(world: World) -> None:
    customer = world.customer(budget_nano=estimate(1_000, 100))
    admission = world.admitted(input_tokens=1_000, output_tokens=100)
    usage = Usage(input_tokens=1_000, output_tokens=500)  # the upstream reports five times the bound
    plan = world.meter.plan_settle(admission.hold, usage, "completed", False, "gpt-4o-mini")
    billable = billable_nano(cost_nano(usage, GPT_4O_MINI), 0)
    assert plan.result.posted_nano == admission.hold.amount_nano
    assert plan.result.unbilled_nano == billable - admission.hold.amount_nano > 0
    world.meter.apply(plan)
    assert customer.spent_nano == admission.hold.amount_nano <= customer.budget_nano  # type: ignore[operator]


def test_an_expired_hold_is_posted_at_its_reserved_amount(world: World) -> None:
    customer = world.customer(budget_nano=10**9)
    admission = world.admitted()
    world.clock.now = START + HOLD_TTL_S
    (due,) = world.state.due_holds(int(world.clock.now))
    plan = world.meter.plan_expire(due)
    (posted,) = transfers(plan.records, "expire")
    assert posted.amount_nano == admission.hold.amount_nano
    assert plan.result.posted_nano == admission.hold.amount_nano
    world.meter.apply(plan)
    assert customer.spent_nano == admission.hold.amount_nano
    assert customer.held_nano == 0
    assert world.state.expired.get(admission.hold.id) is admission.hold


def test_a_late_settle_refunds_the_difference_with_a_correction(world: World) -> None:
    customer = world.customer(budget_nano=10**9)
    admission = world.admitted(input_tokens=1_000, output_tokens=1_000)
    hold = admission.hold
    world.clock.now = START + HOLD_TTL_S
    world.meter.apply(world.meter.plan_expire(hold))
    world.clock.now += 60
    usage = Usage(input_tokens=1_000, output_tokens=10)
    actual = 1_000 * 150 + 10 * 600
    plan = world.meter.plan_late_settle(hold, usage, "completed", False, "gpt-4o-mini")
    (correction,) = transfers(plan.records, "correction")
    # A refund flows back from revenue to the payer; the expiry's posting is not edited.
    assert correction.debit == hold.revenue
    assert correction.credit == hold.payer
    assert correction.amount_nano == hold.amount_nano - actual
    assert not transfers(plan.records, "post") and not transfers(plan.records, "expire")
    assert plan.result.late is True
    assert plan.result.posted_nano == actual
    world.meter.apply(plan)
    assert customer.spent_nano == actual
    assert customer.request_count == 1  # the expiry counted the call; the late settle does not again


def test_a_late_settle_above_the_hold_refunds_nothing(world: World) -> None:
    customer = world.customer(budget_nano=10**9)
    hold = world.admitted(input_tokens=1_000, output_tokens=10).hold
    world.meter.apply(world.meter.plan_expire(hold))
    plan = world.meter.plan_late_settle(hold, Usage(input_tokens=1_000, output_tokens=50), "completed", False, "")
    assert transfers(plan.records, "correction") == []
    assert plan.result.unbilled_nano == 40 * 600
    world.meter.apply(plan)
    assert customer.spent_nano == hold.amount_nano


def test_a_late_settle_in_the_next_month_corrects_in_the_current_period(world: World) -> None:
    world.customer(budget_nano=10**9)
    world.clock.now = int(datetime(2025, 3, 31, 23, 40, tzinfo=UTC).timestamp())
    hold = world.admitted(input_tokens=1_000, output_tokens=1_000).hold
    world.clock.now = hold.expires_at
    world.meter.apply(world.meter.plan_expire(hold))
    world.clock.now = int(datetime(2025, 4, 1, 0, 10, tzinfo=UTC).timestamp())
    plan = world.meter.plan_late_settle(hold, Usage(input_tokens=10), "completed", False, "")
    (correction,) = transfers(plan.records, "correction")
    assert correction.period_start == int(datetime(2025, 4, 1, tzinfo=UTC).timestamp())


def test_the_expiry_schedule_grows_with_open_holds_not_with_calls(world: World) -> None:
    world.customer()
    for _ in range(25_000):
        admitted = world.admit()
        assert isinstance(admitted, Admission)
        world.meter.apply(world.meter.plan_settle(admitted.hold, Usage(input_tokens=1), "completed", False, ""))
    assert world.state.holds == {}
    assert len(world.state.expiry_heap) <= 10_001
