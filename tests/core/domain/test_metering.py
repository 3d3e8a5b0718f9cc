"""core/domain/metering.py: who may call, admission against budgets and wallets, attribution."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.domain import ledger
from core.domain.entities import Denial
from core.domain.metering import Admission
from core.domain.periods import period_bounds
from ringside_server.money import Price, Usage
from tests.core.domain.world import (
    FAST,
    HOLD_TTL_S,
    MODEL_MAX_OUTPUT,
    READ_SECRET,
    START,
    WRITE_SECRET,
    World,
    denial_code,
    estimate,
    transfers,
)

# -- admission: who may call -----------------------------------------------------------------------


@pytest.mark.parametrize("secret", ["", "sk_test_nope", WRITE_SECRET + "x"])
def test_an_unknown_key_is_denied_as_invalid(world: World, secret: str) -> None:
    world.customer()
    assert denial_code(world.admit(secret=secret)) == "invalid_api_key"


def test_a_revoked_key_is_denied_as_invalid(world: World) -> None:
    world.customer()
    world.state.revoke_key(world.state.keys_by_id["key_w"], START)
    assert denial_code(world.admit()) == "invalid_api_key"


def test_a_key_without_api_write_cannot_call_models(world: World) -> None:
    world.customer()
    assert denial_code(world.admit(secret=READ_SECRET)) == "insufficient_scope"


def test_the_cores_request_ids_sort_in_the_order_its_calls_were_admitted(world: World) -> None:
    # an Authorize without the edge's request id: the hold, its pending transfer and later its usage
    # record are keyed by the id the core makes, in admission order
    world.customer()
    holds = [world.admitted().hold.id for _ in range(200)]
    assert holds == sorted(holds) and len(set(holds)) == len(holds)
    assert all(hold.startswith("req_") and len(hold) == 28 for hold in holds)


@pytest.mark.parametrize("customer_ref", ["cus_missing", "ext:missing"])
def test_an_unknown_customer_is_not_found(world: World, customer_ref: str) -> None:
    world.customer(external_id="known")
    decision = world.admit(customer_ref=customer_ref)
    assert denial_code(decision) == "customer_not_found"
    assert isinstance(decision, Denial) and decision.param == "FC-Customer"


@pytest.mark.parametrize("customer_ref", ["cus_other", "ext:theirs"])
def test_another_tenants_customer_is_not_found(world: World, customer_ref: str) -> None:
    world.customer("cus_other", external_id="theirs", account_id="acct_2")
    assert denial_code(world.admit(customer_ref=customer_ref)) == "customer_not_found"


def test_a_live_customer_is_invisible_to_a_test_key(world: World) -> None:
    world.customer("cus_live", external_id="live_user", livemode=True)
    assert denial_code(world.admit(customer_ref="cus_live")) == "customer_not_found"
    assert denial_code(world.admit(customer_ref="ext:live_user")) == "customer_not_found"


def test_a_blocked_customer_is_denied(world: World) -> None:
    customer = world.customer(blocked=True, budget_nano=10**12)
    assert denial_code(world.admit()) == "customer_blocked"
    assert customer.held_nano == 0
    assert world.state.holds == {}


# -- admission: budgets ----------------------------------------------------------------------------


def test_a_call_within_budget_is_admitted_and_its_estimate_is_held(world: World) -> None:
    customer = world.customer(budget_nano=10**9)
    admission = world.admitted(input_tokens=1_000, output_tokens=500)
    expected = estimate(1_000, 500)
    assert expected == 150_000 + 300_000
    assert admission.hold.amount_nano == expected
    assert admission.max_output_tokens == 500
    assert admission.output_limited is False
    assert customer.held_nano == expected
    assert world.state.holds[admission.hold.id] is admission.hold
    (pending,) = transfers(admission.records, "pending")
    assert (pending.debit, pending.credit, pending.amount_nano) == (
        ledger.customer_spend("cus_1"),
        ledger.revenue("acct_1", False),
        expected,
    )
    assert admission.hold.expires_at == START + HOLD_TTL_S


def test_the_hold_includes_the_account_markup(world: World) -> None:
    world.account.markup_bp = 2_500
    world.customer(budget_nano=10**9)
    admission = world.admitted(input_tokens=1_000, output_tokens=100)
    assert admission.hold.amount_nano == 262_500  # (150_000 + 60_000) * 1.25


def test_a_customer_without_a_budget_is_admitted_at_the_full_bound(world: World) -> None:
    customer = world.customer()
    admission = world.admitted(input_tokens=10**6, output_tokens=MODEL_MAX_OUTPUT)
    assert admission.max_output_tokens == MODEL_MAX_OUTPUT
    assert admission.output_limited is False
    assert customer.held_nano == estimate(10**6, MODEL_MAX_OUTPUT)


def test_the_output_bound_falls_back_to_the_account_default_then_the_model_maximum(world: World) -> None:
    world.customer()
    assert world.admitted(output_tokens=0).max_output_tokens == MODEL_MAX_OUTPUT
    world.account.default_max_output_tokens = 256
    assert world.admitted(output_tokens=0).max_output_tokens == 256
    assert world.admitted(output_tokens=10**9).max_output_tokens == MODEL_MAX_OUTPUT


def test_when_the_room_cannot_pay_the_full_bound_the_call_gets_a_smaller_max_tokens(world: World) -> None:
    room = estimate(1_000, 100) + 599  # 100 output tokens fit, 101 would cost 1 nano too much
    customer = world.customer(budget_nano=room)
    admission = world.admitted(input_tokens=1_000, output_tokens=1_000)
    assert admission.max_output_tokens == 100
    assert admission.output_limited is True
    assert admission.hold.amount_nano == estimate(1_000, 100)
    assert admission.hold.amount_nano <= room
    assert customer.held_nano <= room
    assert customer.budget_exceeded is False


def test_a_budget_of_exactly_the_estimate_admits_the_full_bound(world: World) -> None:
    customer = world.customer(budget_nano=estimate(1_000, 1_000))
    admission = world.admitted(input_tokens=1_000, output_tokens=1_000)
    assert (admission.max_output_tokens, admission.output_limited) == (1_000, False)
    assert customer.held_nano == customer.budget_nano


def test_a_budget_one_nano_short_of_the_estimate_limits_the_output(world: World) -> None:
    customer = world.customer(budget_nano=estimate(1_000, 1_000) - 1)
    admission = world.admitted(input_tokens=1_000, output_tokens=1_000)
    assert (admission.max_output_tokens, admission.output_limited) == (999, True)
    assert customer.held_nano == estimate(1_000, 999) <= estimate(1_000, 1_000) - 1


def test_the_smaller_bound_is_shared_by_every_choice(world: World) -> None:
    world.customer(budget_nano=estimate(1_000, 30, choices=3))
    admission = world.admitted(input_tokens=1_000, output_tokens=1_000, choices=3)
    assert admission.max_output_tokens == 30
    assert admission.hold.amount_nano == estimate(1_000, 30, choices=3)


def test_when_not_even_one_output_token_fits_the_call_is_refused_for_budget(world: World) -> None:
    customer = world.customer(budget_nano=estimate(1_000, 1) - 1)
    decision = world.admit(input_tokens=1_000, output_tokens=1_000)
    assert denial_code(decision) == "customer_budget_exceeded"
    assert customer.budget_exceeded is True
    assert customer.held_nano == 0
    assert world.state.holds == {}


def test_exactly_one_affordable_output_token_is_admitted(world: World) -> None:
    world.customer(budget_nano=estimate(1_000, 1))
    admission = world.admitted(input_tokens=1_000, output_tokens=1_000)
    assert admission.max_output_tokens == 1
    assert admission.output_limited is True


def test_a_refused_big_call_does_not_block_a_small_one_that_fits(world: World) -> None:
    customer = world.customer(budget_nano=estimate(1_000, 1_000))
    assert denial_code(world.admit(input_tokens=100_000, output_tokens=1_000)) == "customer_budget_exceeded"
    admission = world.admitted(input_tokens=1_000, output_tokens=1_000)
    assert admission.output_limited is False
    assert customer.held_nano == estimate(1_000, 1_000)
    assert customer.budget_exceeded is True  # the status stays `exceeded` for the period


def test_open_holds_count_against_the_budget(world: World) -> None:
    customer = world.customer(budget_nano=estimate(1_000, 1_000))
    world.admitted(input_tokens=1_000, output_tokens=1_000)
    assert denial_code(world.admit(input_tokens=1, output_tokens=1)) == "customer_budget_exceeded"
    assert customer.held_nano == estimate(1_000, 1_000)


def test_a_new_period_starts_with_a_fresh_budget(world: World) -> None:
    customer = world.customer(budget_nano=estimate(1_000, 1_000))
    world.settle(world.admitted(), Usage(input_tokens=1_000, output_tokens=1_000))
    assert denial_code(world.admit()) == "customer_budget_exceeded"
    world.clock.now = period_bounds(START)[1]  # the first instant of the next month
    admission = world.admitted()
    assert admission.output_limited is False
    assert customer.spent_nano == 0
    assert customer.budget_exceeded is False
    assert admission.hold.period_start == period_bounds(START)[1]


def test_a_wallet_customer_is_limited_by_its_balance(world: World) -> None:
    customer = world.customer(wallet_nano=estimate(1_000, 10))
    admission = world.admitted(input_tokens=1_000, output_tokens=1_000)
    assert admission.max_output_tokens == 10
    assert admission.hold.payer == ledger.customer_wallet("cus_1")
    assert denial_code(world.admit(input_tokens=1, output_tokens=1)) == "customer_wallet_empty"
    assert customer.budget_exceeded is False


@st.composite
def call_sequences(draw: st.DrawFn) -> tuple[int, list[tuple[int, int, int, int | None]]]:
    """A budget, and calls of (input bound, output bound, choices, completion tokens used or None =
    still in flight); a call may use more than its bound (an upstream that over-reports)."""
    budget = draw(st.integers(min_value=0, max_value=5_000_000))
    calls = draw(
        st.lists(
            st.tuples(
                st.integers(min_value=0, max_value=20_000),
                st.integers(min_value=0, max_value=5_000),
                st.integers(min_value=1, max_value=4),
                st.none() | st.integers(min_value=0, max_value=30_000),
            ),
            max_size=30,
        )
    )
    return budget, calls


@FAST
@given(sequence=call_sequences(), markup_bp=st.integers(min_value=0, max_value=20_000))
def test_spend_and_holds_never_pass_the_budget(
    sequence: tuple[int, list[tuple[int, int, int, int | None]]], markup_bp: int
) -> None:
    budget, calls = sequence
    world = World()
    world.account.markup_bp = markup_bp
    customer = world.customer(budget_nano=budget)
    for input_tokens, output_tokens, choices, used in calls:
        decision = world.admit(input_tokens=input_tokens, output_tokens=output_tokens, choices=choices)
        if isinstance(decision, Admission):
            assert decision.hold.amount_nano <= budget
            assert 1 <= decision.max_output_tokens <= (output_tokens or MODEL_MAX_OUTPUT)
            if used is not None:
                world.settle(decision, Usage(input_tokens=input_tokens, output_tokens=used))
        else:
            assert decision.code == "customer_budget_exceeded"
        assert customer.spent_nano + customer.held_nano <= budget
        assert customer.held_nano == sum(hold.amount_nano for hold in world.state.holds.values())


# -- attribution -----------------------------------------------------------------------------------


def test_the_body_user_attributes_the_call_to_the_customer_with_that_external_id(world: World) -> None:
    customer = world.customer(external_id="user-42", budget_nano=10**9)
    admission = world.admitted(customer_ref="", user="user-42")
    assert admission.customer is customer
    assert admission.hold.customer_id == "cus_1"
    assert customer.held_nano == admission.hold.amount_nano


def test_an_unknown_body_user_leaves_the_call_unattributed(world: World) -> None:
    customer = world.customer(external_id="user-42", budget_nano=1)
    admission = world.admitted(customer_ref="", user="someone-else")
    assert admission.customer is None
    assert admission.hold.customer_id is None
    assert admission.hold.payer == ledger.unattributed("acct_1", False)
    assert customer.held_nano == 0


def test_no_customer_header_and_no_user_is_unattributed(world: World) -> None:
    world.customer()
    admission = world.admitted(customer_ref="", user="")
    assert admission.customer is None
    assert admission.hold.payer == ledger.unattributed("acct_1", False)


def test_the_customer_header_wins_over_the_body_user(world: World) -> None:
    world.customer("cus_1", external_id="alice")
    world.customer("cus_2", external_id="bob")
    admission = world.admitted(customer_ref="ext:bob", user="alice")
    assert admission.hold.customer_id == "cus_2"


def test_an_unattributed_settle_touches_no_customer(world: World) -> None:
    customer = world.customer(external_id="user-42")
    admission = world.admitted(customer_ref="")
    world.settle(admission, Usage(input_tokens=10, output_tokens=10))
    assert (customer.spent_nano, customer.held_nano, customer.request_count) == (0, 0, 0)
    assert world.state.holds == {}


# -- admission again under the caller's request id (a resend after a cut-off answer) ---------------


def test_the_same_request_id_admitted_again_is_the_same_hold_reserved_once(world: World) -> None:
    """An Authorize resent under its request id (its first answer cut off by a core's death) is
    answered with the hold it made: no second reserve, no second rate-limit charge, nothing to write."""
    customer = world.customer()
    first = world.admitted(request_id="req_resent0000001")
    held = customer.held_nano
    again = world.admitted(request_id="req_resent0000001")
    assert again.hold is first.hold and again.replayed and not first.replayed
    assert again.records == []
    assert (again.max_output_tokens, again.output_limited) == (first.max_output_tokens, first.output_limited)
    assert customer.held_nano == held == first.hold.amount_nano
    assert list(world.state.holds) == ["req_resent0000001"]
    world.settle(again, Usage(input_tokens=10, output_tokens=10))
    assert customer.held_nano == 0


@pytest.mark.parametrize(("change", "value"), [("secret", "sk_test_" + "o" * 40), ("customer_ref", "cus_2")])
def test_a_request_id_of_another_call_is_refused(world: World, change: str, value: str) -> None:
    world.customer()
    world.customer("cus_2")
    world.customer("cus_o", account_id="acct_2")
    world.admitted(request_id="req_resent0000002")
    decision = world.admit(request_id="req_resent0000002", **{change: value})  # type: ignore[arg-type]
    if change == "secret":  # another account's key: its customer does not exist there
        decision = world.admit(request_id="req_resent0000002", secret=value, customer_ref="cus_o")
    assert denial_code(decision) == "invalid_request"


def test_the_same_request_id_admitted_again_carries_the_first_answers_output_bound(world: World) -> None:
    """A bound cut below what the hold's amount covers (here a TPM window cuts a free model's call,
    whose amount, 0, covers any bound) is answered again as first answered, not rebuilt from the
    amount."""
    customer = world.customer()
    customer.rate_limit_tpm = 1_500
    free = Price(input=0, output=0)
    first = world.admitted(request_id="req_resent0000004", price=free)
    assert (first.max_output_tokens, first.output_limited) == (500, True)
    again = world.admitted(request_id="req_resent0000004", price=free)
    assert again.replayed and again.hold is first.hold
    assert (again.max_output_tokens, again.output_limited) == (500, True)


def test_a_settled_request_id_is_never_admitted_again(world: World) -> None:
    world.customer()
    first = world.admitted(request_id="req_resent0000003")
    world.settle(first, Usage(input_tokens=10, output_tokens=10))
    assert denial_code(world.admit(request_id="req_resent0000003")) == "invalid_request"
