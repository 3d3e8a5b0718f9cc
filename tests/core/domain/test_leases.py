"""core/domain/metering.py + settlement.py, the lease fast path: how big a lease is, who may have one,
and what reporting, closing and expiring a lease post (API.md "Holds, expiry, late settles", "Budgets").

The Meter runs over a hand-built State and a fake clock (the World of test_metering.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.domain import ledger
from core.domain.entities import Denial, Hold, HoldStateChange, Transfer, UsageRecord
from core.domain.metering import LEASE_ROOM_SHARE, MAX_LEASE_CALLS, Admission, CallRequest
from core.domain.settlement import FinishedCall, SettlePlan
from ringside.money import Usage, billable_nano, cost_nano
from tests.core.domain.test_metering import (
    GPT_4O_MINI,
    HOLD_TTL_S,
    MODEL_MAX_OUTPUT,
    OTHER_SECRET,
    READ_SECRET,
    START,
    WRITE_SECRET,
    World,
    denial_code,
    estimate,
    transfers,
)

FAST = settings(max_examples=200, deadline=None)
ONE_CALL = estimate(1_000, 1_000)  # 750_000 nano-USD: 1,000 tokens each way of gpt-4o-mini


def call_request(
    *,
    customer_ref: str = "cus_1",
    user: str = "",
    input_tokens: int = 1_000,
    output_tokens: int = 1_000,
    secret: str = WRITE_SECRET,
) -> CallRequest:
    return CallRequest(
        api_key=secret,
        customer_ref=customer_ref,
        user=user,
        model_ref="fc:openai/gpt-4o-mini",
        provider="openai",
        price=GPT_4O_MINI,
        input_tokens_bound=input_tokens,
        requested_output_tokens=output_tokens,
        model_max_output_tokens=MODEL_MAX_OUTPUT,
    )


def acquire(world: World, calls: int = MAX_LEASE_CALLS, **request: object) -> Admission | Denial | None:
    return world.meter.acquire_lease(call_request(**request), calls)  # type: ignore[arg-type]


def leased(world: World, calls: int = MAX_LEASE_CALLS, **request: object) -> Hold:
    decision = acquire(world, calls, **request)
    assert isinstance(decision, Admission), decision
    return decision.hold


def finished(
    request_id: str,
    *,
    input_tokens: int = 1_000,
    output_tokens: int = 1_000,
    estimate_nano: int = ONE_CALL,
    status: str = "completed",
) -> FinishedCall:
    return FinishedCall(
        request_id=request_id,
        model_ref="fc:openai/gpt-4o-mini",
        provider="openai",
        price=GPT_4O_MINI,
        estimate_nano=estimate_nano,
        usage=Usage(input_tokens=input_tokens, output_tokens=output_tokens),
        status=status,
        usage_estimated=False,
        upstream_model="gpt-4o-mini",
    )


def report(world: World, lease: Hold, *calls: FinishedCall) -> SettlePlan:
    plan = world.meter.plan_lease_calls(lease, calls)
    world.meter.apply(plan)
    return plan


def usage_records(plan: SettlePlan) -> list[UsageRecord]:
    return [record for record in plan.records if isinstance(record, UsageRecord)]


@pytest.fixture
def world() -> World:
    return World()


# -- how much a lease reserves ---------------------------------------------------------------------


def test_an_unlimited_customer_gets_a_lease_worth_sixteen_calls(world: World) -> None:
    customer = world.customer()
    decision = acquire(world)
    assert isinstance(decision, Admission), decision
    lease = decision.hold
    assert lease.kind == "lease" and lease.id.startswith("lse_")
    assert lease.amount_nano == MAX_LEASE_CALLS * ONE_CALL
    assert customer.held_nano == lease.amount_nano
    (pending,) = transfers(decision.records, "pending")
    assert pending.id == ledger.pending_transfer_id(lease.id)
    assert (pending.debit, pending.amount_nano, pending.hold_id) == (
        ledger.customer_spend("cus_1"),
        lease.amount_nano,
        lease.id,
    )
    assert decision.hold in decision.records  # the hold itself is made durable with its pending transfer


@pytest.mark.parametrize(("asked", "covered"), [(100, MAX_LEASE_CALLS), (3, 3), (0, 1)])
def test_a_lease_covers_the_calls_asked_for_between_one_and_sixteen(world: World, asked: int, covered: int) -> None:
    world.customer()
    assert leased(world, asked).amount_nano == covered * ONE_CALL


def test_an_unattributed_caller_gets_a_lease_paid_by_the_account(world: World) -> None:
    lease = leased(world, customer_ref="")
    assert lease.customer_id is None
    assert lease.payer == ledger.unattributed("acct_1", False)
    assert lease.amount_nano == MAX_LEASE_CALLS * ONE_CALL


def test_under_a_cap_a_lease_takes_at_most_a_quarter_of_the_room(world: World) -> None:
    customer = world.customer(budget_nano=10 * ONE_CALL + 3)
    customer.spent_nano = ONE_CALL  # room: 9 calls and 3 nano
    lease = leased(world)
    assert lease.amount_nano == (9 * ONE_CALL + 3) // LEASE_ROOM_SHARE
    assert customer.spent_nano + customer.held_nano <= customer.budget_nano  # type: ignore[operator]


def test_open_holds_shrink_the_next_lease(world: World) -> None:
    customer = world.customer(budget_nano=40 * ONE_CALL)
    first = leased(world)
    assert first.amount_nano == 10 * ONE_CALL
    second = leased(world)
    assert second.amount_nano == 30 * ONE_CALL // LEASE_ROOM_SHARE
    assert customer.held_nano == first.amount_nano + second.amount_nano
    assert {hold.id for hold in world.state.holds.values() if hold.kind == "lease"} == {first.id, second.id}


def test_a_quarter_of_the_room_exactly_one_call_gets_a_one_call_lease(world: World) -> None:
    world.customer(budget_nano=LEASE_ROOM_SHARE * ONE_CALL)
    assert leased(world).amount_nano == ONE_CALL


def test_no_lease_when_a_quarter_of_the_room_cannot_pay_one_call(world: World) -> None:
    customer = world.customer(budget_nano=LEASE_ROOM_SHARE * ONE_CALL - 1)
    assert acquire(world) is None
    assert customer.held_nano == 0 and world.state.holds == {}
    assert customer.budget_exceeded is False  # no lease is not a refusal
    # The call then goes the per-call way, which admits it in full: the room pays for it.
    admission = world.admitted()
    assert admission.hold.amount_nano == ONE_CALL and not admission.output_limited


def test_a_wallet_customer_gets_no_lease_its_calls_go_per_call(world: World) -> None:
    """Wallet responses carry the exact balance after the call, which only the core knows."""
    customer = world.customer(wallet_nano=8 * ONE_CALL)
    assert acquire(world, MAX_LEASE_CALLS) is None
    assert customer.held_nano == 0
    admitted = world.meter.admit(call_request())
    assert isinstance(admitted, Admission) and admitted.hold.payer == ledger.customer_wallet("cus_1")


@pytest.mark.parametrize(
    ("request_fields", "code"),
    [
        ({"secret": "sk_test_nope"}, "invalid_api_key"),
        ({"secret": READ_SECRET}, "insufficient_scope"),
        ({"customer_ref": "cus_missing"}, "customer_not_found"),
        ({"customer_ref": "ext:missing"}, "customer_not_found"),
        ({"customer_ref": "cus_other"}, "customer_not_found"),  # another tenant's
        ({"customer_ref": "cus_blocked"}, "customer_blocked"),
        ({"customer_ref": "", "user": "blocked_user"}, "customer_blocked"),
    ],
)
def test_a_lease_is_refused_exactly_like_a_call(world: World, request_fields: dict[str, Any], code: str) -> None:
    world.customer()
    blocked = world.customer("cus_blocked", external_id="blocked_user", blocked=True)
    world.customer("cus_other", account_id="acct_2")
    assert denial_code(world.admit(**request_fields)) == code
    decision = world.meter.acquire_lease(call_request(**request_fields), MAX_LEASE_CALLS)
    assert isinstance(decision, Denial) and decision.code == code
    assert world.state.holds == {} and blocked.held_nano == 0


def test_a_revoked_key_gets_no_lease(world: World) -> None:
    world.customer()
    assert isinstance(acquire(world), Admission)
    world.state.revoke_key(world.state.keys_by_id["key_w"], START)
    decision = acquire(world)
    assert isinstance(decision, Denial) and decision.code == "invalid_api_key"


def test_another_tenants_key_cannot_lease_against_this_customer(world: World) -> None:
    world.customer()
    decision = acquire(world, secret=OTHER_SECRET)
    assert isinstance(decision, Denial) and decision.code == "customer_not_found"


# -- reporting calls under a lease -----------------------------------------------------------------


def test_a_reported_call_posts_what_it_cost(world: World) -> None:
    world.customer()
    lease = leased(world)
    plan = world.meter.plan_lease_calls(lease, [finished("req_a", input_tokens=800, output_tokens=200)])
    actual = 800 * 150 + 200 * 600
    (post,) = transfers(plan.records, "lease_post")
    assert (post.debit, post.credit, post.amount_nano) == (
        ledger.customer_spend("cus_1"),
        "acct_1:test:revenue",
        actual,
    )
    assert (post.request_id, post.hold_id, post.pending_id) == ("req_a", lease.id, None)
    (cost,) = transfers(plan.records, "cost")
    assert (cost.amount_nano, cost.request_id) == (actual, "req_a")
    (usage,) = usage_records(plan)
    assert (usage.request_id, usage.hold_id, usage.posted_nano, usage.unbilled_nano) == ("req_a", lease.id, actual, 0)


def test_a_reported_call_is_posted_at_most_its_estimate(world: World) -> None:
    world.customer()
    lease = leased(world)
    small_estimate = estimate(1_000, 100)
    over = finished("req_a", input_tokens=1_000, output_tokens=500, estimate_nano=small_estimate)
    plan = world.meter.plan_lease_calls(lease, [over])
    billable = billable_nano(cost_nano(over.usage, GPT_4O_MINI), 0)
    (usage,) = usage_records(plan)
    assert usage.posted_nano == small_estimate
    assert usage.unbilled_nano == billable - small_estimate > 0
    assert transfers(plan.records, "lease_post")[0].amount_nano == small_estimate


def test_reported_calls_are_posted_at_most_what_the_lease_has_left(world: World) -> None:
    customer = world.customer(budget_nano=6 * ONE_CALL)
    lease = leased(world)
    assert lease.amount_nano == 6 * ONE_CALL // 4  # one and a half calls
    plan = report(world, lease, finished("req_a"), finished("req_b"), finished("req_c"))
    assert [t.amount_nano for t in transfers(plan.records, "lease_post")] == [ONE_CALL, ONE_CALL // 2, 0]
    assert [u.posted_nano for u in usage_records(plan)] == [ONE_CALL, ONE_CALL // 2, 0]
    assert lease.remaining_nano == 0
    assert customer.spent_nano == lease.amount_nano <= customer.budget_nano  # type: ignore[operator]


def test_a_repeated_request_id_is_posted_once_within_a_batch_and_across_batches(world: World) -> None:
    customer = world.customer()
    lease = leased(world)
    first = report(world, lease, finished("req_a"), finished("req_a"), finished("req_b"))
    assert first.reported == ["req_a", "req_b"]
    assert len(transfers(first.records, "lease_post")) == 2 and len(usage_records(first)) == 2
    second = report(world, lease, finished("req_b"), finished("req_c"), finished("req_a"))
    assert second.reported == ["req_c"]
    assert [u.request_id for u in usage_records(second)] == ["req_c"]
    assert customer.spent_nano == 3 * ONE_CALL
    assert customer.request_count == 3
    assert world.meter.plan_lease_calls(lease, [finished("req_c")]).records == []


def test_a_failed_call_is_recorded_but_not_counted_as_a_request(world: World) -> None:
    customer = world.customer()
    lease = leased(world)
    plan = report(
        world,
        lease,
        finished("req_ok"),
        finished("req_failed", input_tokens=0, output_tokens=0, status="failed"),
        finished("req_aborted", output_tokens=10, status="aborted"),
    )
    assert [u.status for u in usage_records(plan)] == ["completed", "failed", "aborted"]
    assert customer.request_count == 2
    assert customer.spent_nano == ONE_CALL + (1_000 * 150 + 10 * 600)


def test_a_report_moves_what_it_posted_from_held_to_spent(world: World) -> None:
    customer = world.customer(budget_nano=100 * ONE_CALL)
    lease = leased(world)
    amount = lease.amount_nano
    plan = world.meter.plan_lease_calls(lease, [finished("req_a", output_tokens=10), finished("req_b")])
    posted = (1_000 * 150 + 10 * 600) + ONE_CALL
    assert plan.consumed == posted
    assert (customer.held_nano, customer.spent_nano) == (amount, 0)  # nothing moves before apply
    world.meter.apply(plan)
    assert (customer.held_nano, customer.spent_nano) == (amount - posted, posted)
    assert lease.remaining_nano == amount - posted
    assert world.state.holds[lease.id] is lease  # still open: more calls may come


# -- closing and expiring a lease ------------------------------------------------------------------


def test_closing_a_lease_releases_what_its_calls_did_not_use(world: World) -> None:
    customer = world.customer(budget_nano=100 * ONE_CALL)
    decision = acquire(world)
    assert isinstance(decision, Admission)
    lease = decision.hold
    report(world, lease, finished("req_a"))
    plan = world.meter.plan_close_lease(lease)
    (release,) = transfers(plan.records, "release")
    (pending,) = transfers(decision.records, "pending")
    assert release.amount_nano == 0
    assert release.pending_id == pending.id
    assert (release.debit, release.credit) == (pending.debit, pending.credit)
    assert transfers(plan.records, "lease_post") == transfers(plan.records, "expire") == []
    assert any(isinstance(r, HoldStateChange) and r.state == "closed" for r in plan.records)
    world.meter.apply(plan)
    assert customer.held_nano == 0
    assert customer.spent_nano == ONE_CALL
    assert customer.request_count == 1
    assert lease.id not in world.state.holds


def test_an_expired_lease_posts_exactly_its_unreported_remainder(world: World) -> None:
    customer = world.customer(budget_nano=100 * ONE_CALL)
    lease = leased(world)
    report(world, lease, finished("req_a"), finished("req_b", output_tokens=10))
    reported = customer.spent_nano
    world.clock.now = START + HOLD_TTL_S
    (due,) = world.state.due_holds(int(world.clock.now))
    assert due is lease
    plan = world.meter.plan_expire(lease)
    (posted,) = transfers(plan.records, "expire")
    assert posted.amount_nano == lease.amount_nano - reported
    assert posted.pending_id == ledger.pending_transfer_id(lease.id)
    (usage,) = usage_records(plan)
    assert (usage.request_id, usage.status, usage.posted_nano) == (lease.id, "lease_expired", posted.amount_nano)
    assert plan.requests == 0
    world.meter.apply(plan)
    assert customer.spent_nano == lease.amount_nano  # the reported calls plus what the dead edge never reported
    assert customer.held_nano == 0
    assert customer.request_count == 2  # the expiry is not a request
    assert lease.id not in world.state.holds


def test_a_fully_used_lease_expires_posting_nothing_more(world: World) -> None:
    customer = world.customer()
    lease = leased(world, calls=1)
    report(world, lease, finished("req_a"))
    plan = world.meter.plan_expire(lease)
    assert transfers(plan.records, "expire")[0].amount_nano == 0
    world.meter.apply(plan)
    assert (customer.spent_nano, customer.held_nano) == (ONE_CALL, 0)


def test_a_lease_reported_at_its_expiry_instant_still_expires_later(world: World) -> None:
    customer = world.customer(budget_nano=100 * ONE_CALL)
    lease = leased(world)
    world.clock.now = START + HOLD_TTL_S
    lease.settling = True  # the edge's report of a few calls is being written right now
    swept = world.state.due_holds(int(world.clock.now))
    lease.settling = False  # ... and the edge dies before closing the lease
    world.clock.now += 60
    swept += world.state.due_holds(int(world.clock.now))
    assert swept == [lease]
    world.meter.apply(world.meter.plan_expire(lease))
    assert customer.held_nano == 0


# -- the budget holds whatever the order of events -------------------------------------------------


@dataclass(frozen=True)
class Lease:
    input_tokens: int
    output_tokens: int


@dataclass(frozen=True)
class Admit:
    input_tokens: int
    output_tokens: int


@dataclass(frozen=True)
class Reported:
    """A call an edge reports: request id number, tokens used, the estimate it reserved, outcome."""

    number: int
    input_tokens: int
    output_tokens: int
    estimate_nano: int
    status: str


@dataclass(frozen=True)
class Report:
    lease: int
    calls: list[Reported]


@dataclass(frozen=True)
class Close:
    lease: int


@dataclass(frozen=True)
class Expire:
    lease: int


@dataclass(frozen=True)
class Settle:
    hold: int
    output_tokens: int


Op = Lease | Admit | Report | Close | Expire | Settle
TOKENS = st.integers(min_value=0, max_value=5_000)
PICK = st.integers(min_value=0, max_value=15)  # which open lease or hold, modulo how many are open


@st.composite
def lease_histories(draw: st.DrawFn) -> tuple[int, list[Op]]:
    """A cap and a history of one customer's calls: lease acquisitions, per-call admissions, reports
    of calls under a lease (request ids from a small pool so repeats occur; estimates as any edge may
    send them), closes, expiries and per-call settles."""
    # Calls' worth plus some nano: small integers alone would rarely leave room for a lease.
    budget = draw(st.integers(min_value=0, max_value=60)) * ONE_CALL + draw(st.integers(0, ONE_CALL))
    reported = st.builds(
        Reported,
        st.integers(min_value=0, max_value=9),
        TOKENS,
        TOKENS,
        st.integers(min_value=0, max_value=5 * ONE_CALL),
        st.sampled_from(["completed", "aborted", "failed"]),
    )
    output = st.integers(min_value=0, max_value=2_000)
    ops = st.one_of(
        st.builds(Lease, TOKENS, output),
        st.builds(Admit, TOKENS, output),
        st.builds(Report, PICK, st.lists(reported, max_size=10)),
        st.builds(Report, PICK, st.lists(reported, min_size=4, max_size=10)),  # reports are the busy part
        st.builds(Close, PICK),
        st.builds(Expire, PICK),
        st.builds(Settle, PICK, TOKENS),
    )
    return budget, draw(st.lists(ops, min_size=1, max_size=40))


@dataclass
class Books:
    """Every transfer the history wrote, to check the ledger beside the hot counters."""

    transfers: list[Transfer] = field(default_factory=list)

    def add(self, records: list[object]) -> None:
        self.transfers += [record for record in records if isinstance(record, Transfer)]

    def spent(self) -> int:
        return sum(t.amount_nano for t in self.transfers if t.kind in ledger.SPEND_KINDS)

    def posted_against(self, hold_id: str) -> int:
        return sum(
            t.amount_nano
            for t in self.transfers
            if t.kind in ("post", "expire", "lease_post") and (t.hold_id == hold_id or t.request_id == hold_id)
        )


def run(world: World, op: Op, open_holds: list[Hold]) -> list[object]:
    """Apply one event like the services do; returns the records it wrote."""
    customer = world.state.customers["cus_1"]
    assert customer.budget_nano is not None
    room = customer.budget_nano - customer.spent_nano - customer.held_nano
    leases = [hold for hold in open_holds if hold.kind == "lease"]
    calls = [hold for hold in open_holds if hold.kind == "call"]
    if isinstance(op, Lease | Admit):
        decision: Admission | Denial | None
        if isinstance(op, Lease):
            decision = acquire(world, input_tokens=op.input_tokens, output_tokens=op.output_tokens)
            share = LEASE_ROOM_SHARE
        else:
            decision = world.admit(input_tokens=op.input_tokens, output_tokens=op.output_tokens)
            share = 1
        if not isinstance(decision, Admission):
            return []
        assert decision.hold.amount_nano <= room // share
        return decision.records
    plan: SettlePlan
    if isinstance(op, Report) and leases:
        lease = leases[op.lease % len(leases)]
        plan = world.meter.plan_lease_calls(
            lease,
            [
                finished(
                    f"{lease.id}_c{c.number}",
                    input_tokens=c.input_tokens,
                    output_tokens=c.output_tokens,
                    estimate_nano=c.estimate_nano,
                    status=c.status,
                )
                for c in op.calls
            ],
        )
    elif isinstance(op, Close) and leases:
        plan = world.meter.plan_close_lease(leases[op.lease % len(leases)])
    elif isinstance(op, Expire) and leases:
        plan = world.meter.plan_expire(leases[op.lease % len(leases)])
    elif isinstance(op, Settle) and calls:
        hold = calls[op.hold % len(calls)]
        plan = world.meter.plan_settle(hold, Usage(500, output_tokens=op.output_tokens), "completed", False, "m")
    else:
        return []
    world.meter.apply(plan)
    return plan.records


@FAST
@given(history=lease_histories(), markup_bp=st.integers(min_value=0, max_value=20_000))
def test_leases_and_calls_never_let_spend_and_holds_pass_the_cap(history: tuple[int, list[Op]], markup_bp: int) -> None:
    budget, ops = history
    world = World()
    world.account.markup_bp = markup_bp
    customer = world.customer(budget_nano=budget)
    books = Books()
    reserved: dict[str, int] = {}  # every hold and lease granted, in order → its amount
    for op in ops:
        open_holds = [world.state.holds[hold_id] for hold_id in reserved if hold_id in world.state.holds]
        records = run(world, op, open_holds)
        books.add(records)
        reserved |= {r.id: r.amount_nano for r in records if isinstance(r, Hold)}
        assert customer.spent_nano + customer.held_nano <= budget
        assert customer.held_nano == sum(h.remaining_nano for h in world.state.holds.values())
        assert customer.spent_nano == books.spent()
        assert all(t.amount_nano >= 0 for t in books.transfers)
        assert all(books.posted_against(hold_id) <= amount for hold_id, amount in reserved.items())
