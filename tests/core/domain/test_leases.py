"""core/domain/metering.py + settlement.py, the lease fast path: how big a lease is, who may have one,
and what reporting, closing and expiring a lease post (API.md "Holds, expiry, late settles", "Budgets").

The Meter runs over a hand-built State and a fake clock (the World of test_metering.py).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from core.domain import ledger
from core.domain.entities import Denial, Hold, HoldStateChange, LeaseExpiry, UsageCorrection
from core.domain.metering import LEASE_ROOM_SHARE, MAX_LEASE_CALLS, Admission
from ringside_server.money import Price, billable_nano, cost_nano
from tests.core.domain.lease_world import (
    ONE_CALL,
    acquire,
    admit,
    call_request,
    finished,
    leased,
    report,
    usage_records,
)
from tests.core.domain.world import (
    GPT_4O_MINI,
    HOLD_TTL_S,
    OTHER_SECRET,
    READ_SECRET,
    START,
    World,
    denial_code,
    estimate,
    transfers,
)


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


def test_the_cores_lease_ids_sort_in_the_order_its_leases_were_granted(world: World) -> None:
    # a lease asked without the edge's id: its hold and its calls' transfers are keyed by the id
    # the core makes, in grant order
    world.customer()
    leases = [leased(world, 1).id for _ in range(50)]
    assert leases == sorted(leases) and len(set(leases)) == len(leases)
    assert all(lease.startswith("lse_") and len(lease) == 28 for lease in leases)


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


def test_a_free_models_calls_get_a_lease_of_slots_only_and_post_nothing(world: World) -> None:
    """fc:local/* is priced 0: its calls (a vector store search's query embedding) take the fast path
    like any others — whatever the budget's room, as the per-call path admits them — and cost nothing."""
    customer = world.customer(budget_nano=0)
    request = call_request()
    free = world.meter.acquire_lease(dataclasses.replace(request, price=Price(input=0, output=0)), MAX_LEASE_CALLS)
    assert isinstance(free, Admission), free
    assert (free.hold.amount_nano, free.lease_calls) == (0, MAX_LEASE_CALLS)
    assert customer.held_nano == 0 and customer.budget_exceeded is False
    report(world, free.hold, dataclasses.replace(finished("req_free", estimate_nano=0), price=Price(0, 0)))
    plan = world.meter.plan_close_lease(free.hold)
    assert all(t.amount_nano == 0 for t in transfers(plan.records, "release") + transfers(plan.records, "lease_post"))
    world.meter.apply(plan)
    assert (customer.held_nano, customer.spent_nano, customer.request_count) == (0, 0, 1)


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


def test_an_expired_lease_posts_only_its_admitted_unfinished_calls_at_their_estimates(world: World) -> None:
    """A dead edge (issue 14): of 16 slots, 2 calls reported finished and 3 reported admitted and
    not finished; the expiry posts the 3 at their estimates and releases the 11 others, recording
    how many slots no report named."""
    customer = world.customer(budget_nano=100 * ONE_CALL)
    lease = leased(world, 16)
    admit(world, lease, "req_a", "req_b", "req_c", "req_d", "req_e")
    report(world, lease, finished("req_a"), finished("req_b", output_tokens=10))
    reported = customer.spent_nano
    world.clock.now = START + HOLD_TTL_S
    (due,) = world.state.due_holds(int(world.clock.now))
    assert due is lease
    plan = world.meter.plan_expire(lease)
    posts = transfers(plan.records, "lease_post")
    assert sorted((t.request_id, t.amount_nano) for t in posts) == [(r, ONE_CALL) for r in ("req_c", "req_d", "req_e")]
    (resolution,) = transfers(plan.records, "expire")
    assert (resolution.amount_nano, resolution.pending_id) == (0, ledger.pending_transfer_id(lease.id))
    assert sorted((u.request_id, u.status, u.posted_nano) for u in usage_records(plan)) == [
        (r, "lease_released", ONE_CALL) for r in ("req_c", "req_d", "req_e")
    ]
    (expiry,) = [r for r in plan.records if isinstance(r, LeaseExpiry)]
    assert expiry.slots_released_unreported == 16 - 5
    world.meter.apply(plan)
    assert customer.spent_nano == reported + 3 * ONE_CALL
    assert customer.held_nano == 0
    assert customer.request_count == 5  # the admitted calls were requests
    assert lease.id not in world.state.holds


def test_a_late_report_corrects_a_released_call_and_posts_an_unreported_one(world: World) -> None:
    """A report arriving after its lease expired: a call the expiry posted at its estimate is
    refunded down to its actual amount; a call no report had named is posted now."""
    customer = world.customer(budget_nano=100 * ONE_CALL)
    lease = leased(world)
    admit(world, lease, "req_a")
    world.clock.now = START + HOLD_TTL_S
    expiry = world.meter.plan_expire(lease)
    world.meter.apply(expiry)
    assert customer.spent_nano == ONE_CALL
    late = [finished("req_a", output_tokens=10), finished("req_z", output_tokens=20)]
    plan = world.meter.plan_late_lease_calls(lease, late, {"req_a": ONE_CALL}, set())
    actual_a = billable_nano(cost_nano(late[0].usage, GPT_4O_MINI), 0)
    actual_z = billable_nano(cost_nano(late[1].usage, GPT_4O_MINI), 0)
    (correction,) = transfers(plan.records, "correction")
    assert (correction.request_id, correction.amount_nano) == ("req_a", ONE_CALL - actual_a)
    (post,) = transfers(plan.records, "lease_post")
    assert (post.request_id, post.amount_nano) == ("req_z", actual_z)
    corrected = [r.record for r in plan.records if isinstance(r, UsageCorrection)]
    assert [(u.request_id, u.status, u.posted_nano) for u in corrected] == [("req_a", "late_completed", actual_a)]
    assert [(u.request_id, u.status) for u in usage_records(plan)] == [("req_z", "completed")]
    world.meter.apply(plan)
    assert customer.spent_nano == actual_a + actual_z
    assert customer.request_count == 2
    # Repeated: the calls are recorded, nothing moves again.
    again = world.meter.plan_late_lease_calls(lease, late, {}, {"req_a", "req_z"})
    assert again.records == [] and again.spend == 0


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


# -- a lease asked again under the caller's id (a resend after a cut-off answer) -------------------


def test_the_same_lease_id_asked_again_is_the_same_lease_reserved_once(world: World) -> None:
    """An AcquireLease resent under its lease id (its first answer cut off by a core's death) is
    answered with the lease it granted: no second reserve, no second rate-limit charge, nothing to
    write; the same calls and tokens."""
    customer = world.customer()
    customer.rate_limit_tpm = 1_000_000
    first = world.meter.acquire_lease(call_request(), MAX_LEASE_CALLS, "lse_resent0000001")
    assert isinstance(first, Admission), first
    held = customer.held_nano
    again = world.meter.acquire_lease(call_request(), MAX_LEASE_CALLS, "lse_resent0000001")
    assert isinstance(again, Admission), again
    assert again.hold is first.hold and again.replayed and not first.replayed
    assert again.records == []
    assert first.hold.id == "lse_resent0000001" and first.lease_tokens > 0
    assert (again.lease_calls, again.lease_tokens) == (first.lease_calls, first.lease_tokens)
    assert customer.held_nano == held == first.hold.amount_nano
    assert list(world.state.holds) == ["lse_resent0000001"]


@pytest.mark.parametrize("change", ["account", "customer", "model"])
def test_a_lease_id_of_another_caller_is_refused(world: World, change: str) -> None:
    world.customer()
    world.customer("cus_2")
    world.customer("cus_o", account_id="acct_2")
    leased_first = world.meter.acquire_lease(call_request(), MAX_LEASE_CALLS, "lse_resent0000002")
    assert isinstance(leased_first, Admission)
    request = {
        "account": call_request(secret=OTHER_SECRET, customer_ref="cus_o"),
        "customer": call_request(customer_ref="cus_2"),
        "model": dataclasses.replace(call_request(), model_ref="fc:openai/gpt-4o"),
    }[change]
    assert denial_code(world.meter.acquire_lease(request, MAX_LEASE_CALLS, "lse_resent0000002")) == "invalid_request"


def test_an_expired_lease_id_is_never_leased_again(world: World) -> None:
    world.customer()
    lease = leased_under(world, "lse_resent0000003")
    world.meter.apply(world.meter.plan_expire(lease))
    assert denial_code(world.meter.acquire_lease(call_request(), MAX_LEASE_CALLS, "lse_resent0000003")) == (
        "invalid_request"
    )


def leased_under(world: World, lease_id: str) -> Hold:
    decision = world.meter.acquire_lease(call_request(), MAX_LEASE_CALLS, lease_id)
    assert isinstance(decision, Admission), decision
    return decision.hold
