"""core/domain/events.py through the meter: which postings and refusals fire which events, once."""

from __future__ import annotations

import json

from core.domain.entities import Denial
from core.domain.metering import Admission
from core.domain.webhooks import Event, OutboxEntry
from ringside_server.money import Usage
from tests.core.domain.world import World, estimate


def events(records: list[object]) -> list[dict[str, object]]:
    found = [json.loads(r.body) for r in records if isinstance(r, Event)]
    outbox = [r for r in records if isinstance(r, OutboxEntry)]
    assert [o.event_id for o in outbox] == [e["id"] for e in found]  # each event with its outbox row
    return found


def _settle(world: World, admission: Admission, output_tokens: int) -> list[object]:
    plan = world.meter.plan_settle(
        admission.hold, Usage(input_tokens=0, output_tokens=output_tokens), "completed", False, "m"
    )
    world.meter.apply(plan)
    return plan.records


def test_wallet_low_fires_once_when_posted_spend_crosses_80_percent(world: World) -> None:
    world.customer(budget_nano=1_000_000)  # 1,666 output tokens at 600 nano
    fired = []
    for _ in range(4):  # 4 × 400 tokens × 600 = 960,000: crosses 800,000 on the 4th
        fired += events(_settle(world, world.admitted(input_tokens=0, output_tokens=400), 400))
    assert [(e["type"], e["data"]["trigger"]) for e in fired] == [("wallet.low", "budget_threshold")]  # type: ignore[index]
    assert fired[0]["data"]["customer"]["spent_usd"] == 0.00096  # type: ignore[index]
    # still above the threshold: nothing more
    assert events(_settle(world, world.admitted(input_tokens=0, output_tokens=10), 10)) == []


def test_the_accounts_low_threshold_pct_sets_where_wallet_low_fires(world: World) -> None:
    world.account.low_threshold_pct = 50
    world.customer(budget_nano=1_000_000)
    first = events(_settle(world, world.admitted(input_tokens=0, output_tokens=400), 400))  # 24 %
    assert first == []
    second = events(_settle(world, world.admitted(input_tokens=0, output_tokens=500), 500))  # 54 %
    assert [(e["type"], e["data"]["threshold_pct"]) for e in second] == [("wallet.low", 50)]  # type: ignore[index]


def test_holds_do_not_count_toward_the_threshold(world: World) -> None:
    world.customer(budget_nano=1_000_000)
    held = world.admitted(input_tokens=0, output_tokens=1_300)  # holds 780,000: not posted spend
    small = world.admitted(input_tokens=0, output_tokens=100)
    assert events(_settle(world, small, 100)) == []
    assert [e["type"] for e in events(_settle(world, held, 1_300))] == ["wallet.low"]


def test_budget_exceeded_fires_at_the_first_refusal_and_a_changed_cap_rearms(world: World) -> None:
    customer = world.customer(budget_nano=estimate(1_000, 1_000))
    world.admitted()
    first = world.admit()
    assert isinstance(first, Denial) and first.code == "customer_budget_exceeded"
    assert [e["type"] for e in events(first.records)] == ["customer.budget_exceeded"]
    again = world.admit()
    assert isinstance(again, Denial) and again.records == []
    customer.budget_nano *= 3  # what customers.update does with a new cap
    customer.budget_exceeded_period = -1
    world.admitted()
    world.admitted()
    third = world.admit()
    assert isinstance(third, Denial) and [e["type"] for e in events(third.records)] == ["customer.budget_exceeded"]


def test_wallet_threshold_empty_and_rearm_by_credit(world: World) -> None:
    customer = world.customer(wallet_nano=1_000_000)
    customer.wallet_low_threshold_nano = 500_000
    crossing = _settle(world, world.admitted(input_tokens=0, output_tokens=1_000), 1_000)  # balance 400,000
    [low] = events(crossing)
    assert low["data"]["trigger"] == "wallet_threshold" and low["data"]["balance_usd"] == 0.0004  # type: ignore[index]
    assert events(_settle(world, world.admitted(input_tokens=0, output_tokens=100), 100)) == []  # still below
    drained = world.admit(input_tokens=0, output_tokens=5_000)
    assert isinstance(drained, Admission)  # admitted with the output the rest of the wallet pays for
    emptied = events(_settle(world, drained, drained.max_output_tokens))  # at exactly 0 it fires here
    refused = world.admit(input_tokens=0, output_tokens=10)
    assert isinstance(refused, Denial) and refused.code == "customer_wallet_empty"
    emptied += events(refused.records)  # … else at the first refusal
    assert [e["type"] for e in emptied] == ["wallet.empty"]
    again = world.admit(input_tokens=0, output_tokens=10)
    assert isinstance(again, Denial) and again.records == []  # once per emptying
    # money back in re-arms both: the next crossing fires again
    from core.domain.events import on_wallet_credit

    customer.wallet_balance_nano += 1_000_000
    on_wallet_credit(customer, customer.wallet_balance_nano)
    assert not customer.wallet_low_fired and not customer.wallet_empty_fired
    fired = events(_settle(world, world.admitted(input_tokens=0, output_tokens=1_000), 1_000))
    assert [e["data"]["trigger"] for e in fired] == ["wallet_threshold"]  # type: ignore[index]


def test_an_auto_created_customer_commits_its_creation_event_with_its_first_hold(world: World) -> None:
    world.account.auto_create_customers = True
    admission = world.admitted(customer_ref="ext:new_user")
    assert admission.customer is not None
    [created] = events(admission.records)
    assert created["type"] == "customer.created"
    assert created["data"]["customer"]["external_id"] == "new_user"  # type: ignore[index]
    assert events(world.admitted(customer_ref="ext:new_user").records) == []  # once


def test_a_crossing_split_between_concurrent_plans_fires_once(world: World) -> None:
    world.customer(budget_nano=1_000_000)
    first, second, third = (world.admitted(input_tokens=0, output_tokens=450) for _ in range(3))
    world.meter.apply(world.meter.plan_settle(first.hold, Usage(output_tokens=450), "completed", False, "m"))
    # 270,000 posted; two settles planned before either is applied: 540,000 then 810,000 (≥ 80%)
    plans = [
        world.meter.plan_settle(a.hold, Usage(output_tokens=450), "completed", False, "m") for a in (second, third)
    ]
    assert [[e["type"] for e in events(p.records)] for p in plans] == [[], ["wallet.low"]]
    for plan in plans:
        world.meter.apply(plan)
    assert events(_settle(world, world.admitted(input_tokens=0, output_tokens=10), 10)) == []
