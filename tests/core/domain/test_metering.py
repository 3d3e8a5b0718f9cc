"""core/domain/metering.py: admission against budgets, holds, settles, expiry and late settles.

The Meter runs over a hand-built State and a fake clock: no database, no network.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.domain import ledger
from core.domain.entities import Account, ApiKey, Customer, Denial, Transfer, hash_secret
from core.domain.metering import Admission, CallRequest, Meter
from core.domain.periods import period_bounds
from core.domain.state import State
from ringside.money import Price, Usage, billable_nano, cost_nano, estimate_nano

FAST = settings(max_examples=200, deadline=None)

GPT_4O_MINI = Price(input=150_000_000, output=600_000_000)  # 150 nano per input token, 600 per output
MODEL_MAX_OUTPUT = 16_384
HOLD_TTL_S = 900
WRITE_SECRET = "sk_test_" + "w" * 40
READ_SECRET = "sk_test_" + "r" * 40
OTHER_SECRET = "sk_test_" + "o" * 40
START = int(datetime(2025, 3, 10, 12, 0, tzinfo=UTC).timestamp())


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _key(key_id: str, account_id: str, secret: str, scopes: frozenset[str]) -> ApiKey:
    return ApiKey(
        id=key_id,
        account_id=account_id,
        livemode=False,
        name=key_id,
        scopes=scopes,
        secret_hash=hash_secret(secret),
        redacted=secret[:8] + "…",
        created=START,
    )


@dataclass
class World:
    state: State = field(default_factory=State)
    clock: FakeClock = field(default_factory=lambda: FakeClock(START))
    meter: Meter = field(init=False)
    account: Account = field(default_factory=lambda: Account(id="acct_1", name="Acme", created=START))

    def __post_init__(self) -> None:
        self.meter = Meter(self.state, HOLD_TTL_S, self.clock)
        self.state.accounts[self.account.id] = self.account
        self.state.accounts["acct_2"] = Account(id="acct_2", name="Other", created=START)
        self.state.add_key(_key("key_w", self.account.id, WRITE_SECRET, frozenset({"api:write"})))
        self.state.add_key(_key("key_r", self.account.id, READ_SECRET, frozenset({"api:read"})))
        self.state.add_key(_key("key_o", "acct_2", OTHER_SECRET, frozenset({"api:write"})))

    def customer(
        self,
        customer_id: str = "cus_1",
        *,
        budget_nano: int | None = None,
        external_id: str | None = None,
        blocked: bool = False,
        account_id: str = "acct_1",
        livemode: bool = False,
        wallet_nano: int | None = None,
    ) -> Customer:
        customer = Customer(
            id=customer_id,
            account_id=account_id,
            livemode=livemode,
            external_id=external_id,
            name="",
            email="",
            metadata={},
            budget_nano=budget_nano,
            budget_explicit=budget_nano is not None,
            rate_limit_rpm=None,
            rate_limit_tpm=None,
            blocked=blocked,
            billing_anchor_day=1,
            wallet_enabled=wallet_nano is not None,
            wallet_low_threshold_nano=0,
            created=START,
            period_start=period_bounds(START)[0],
            wallet_balance_nano=wallet_nano or 0,
        )
        self.state.add_customer(customer)
        return customer

    def admit(
        self,
        *,
        customer_ref: str = "cus_1",
        user: str = "",
        input_tokens: int = 1_000,
        output_tokens: int = 1_000,
        choices: int = 1,
        secret: str = WRITE_SECRET,
        price: Price = GPT_4O_MINI,
    ) -> Admission | Denial:
        return self.meter.admit(
            CallRequest(
                api_key=secret,
                customer_ref=customer_ref,
                user=user,
                model_ref="fc:openai/gpt-4o-mini",
                provider="openai",
                price=price,
                input_tokens_bound=input_tokens,
                requested_output_tokens=output_tokens,
                model_max_output_tokens=MODEL_MAX_OUTPUT,
                choices=choices,
            )
        )

    def admitted(self, **kwargs: object) -> Admission:
        decision = self.admit(**kwargs)  # type: ignore[arg-type]
        assert isinstance(decision, Admission), decision
        return decision

    def settle(self, admission: Admission, usage: Usage) -> None:
        self.meter.apply(self.meter.plan_settle(admission.hold, usage, "completed", False, "gpt-4o-mini"))


def estimate(input_tokens: int, output_tokens: int, choices: int = 1, markup_bp: int = 0) -> int:
    return estimate_nano(input_tokens, output_tokens, choices, GPT_4O_MINI, markup_bp)


def denial_code(decision: Admission | Denial) -> str:
    assert isinstance(decision, Denial), decision
    return decision.code


def transfers(records: list[object], kind: str) -> list[Transfer]:
    return [record for record in records if isinstance(record, Transfer) and record.kind == kind]


@pytest.fixture
def world() -> World:
    return World()


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
