"""The account's own prepaid balance: live calls reserve their provider-cost bound from it, pay their
actual cost at settle, and are refused with 402 wallet_empty when it cannot pay for one token."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from core.domain.entities import ApiKey, Denial, hash_secret
from core.domain.metering import Admission
from ringside_server.money import Usage, cost_nano
from tests.core.domain.lease_world import FAST, call_request
from tests.core.domain.world import GPT_4O_MINI, START, World, denial_code, estimate

LIVE_SECRET = "sk_live_" + "l" * 40


def prepaid_world(balance_nano: int, markup_bp: int = 0) -> World:
    world = World()
    world.account.prepaid_balance_enabled = True
    world.account.markup_bp = markup_bp
    world.state.prepaid_of("acct_1").balance_nano = balance_nano
    world.state.add_key(
        ApiKey("key_l", "acct_1", True, "live", frozenset({"api:write"}), hash_secret(LIVE_SECRET), "sk_live_…", START)
    )
    world.customer("cus_live", livemode=True)
    return world


def live(world: World, **fields: object) -> Admission | Denial:
    return world.admit(secret=LIVE_SECRET, customer_ref="cus_live", **fields)  # type: ignore[arg-type]


def balance(world: World) -> tuple[int, int]:
    held = world.state.prepaid_of("acct_1")
    return held.balance_nano, held.held_nano


def test_a_live_call_reserves_its_cost_bound_and_pays_its_actual_cost() -> None:
    world = prepaid_world(10 * estimate(1_000, 1_000), markup_bp=5_000)  # the markup is not the operator's
    admission = live(world)
    assert isinstance(admission, Admission)
    assert admission.hold.prepaid_nano == estimate(1_000, 1_000)
    assert balance(world) == (10 * estimate(1_000, 1_000), estimate(1_000, 1_000))
    usage = Usage(input_tokens=300, output_tokens=200)
    world.settle(admission, usage)
    assert balance(world) == (10 * estimate(1_000, 1_000) - cost_nano(usage, GPT_4O_MINI), 0)


def test_near_the_end_the_output_bound_shrinks_to_what_the_balance_pays() -> None:
    world = prepaid_world(estimate(1_000, 500))
    admission = live(world)
    assert isinstance(admission, Admission)
    assert admission.max_output_tokens == 500 and admission.output_limited


def test_when_not_even_one_token_is_paid_for_the_call_is_402_wallet_empty() -> None:
    world = prepaid_world(estimate(1_000, 0))
    decision = live(world)
    assert isinstance(decision, Denial)
    assert decision.code == "wallet_empty"
    assert not decision.should_retry


def test_test_mode_calls_never_draw_on_it() -> None:
    world = prepaid_world(0)
    world.customer()
    assert isinstance(world.admit(), Admission)  # the test key's call
    assert balance(world) == (0, 0)


def test_a_disabled_balance_is_not_checked() -> None:
    world = prepaid_world(0)
    world.account.prepaid_balance_enabled = False
    assert isinstance(live(world), Admission)


def test_an_expired_hold_pays_its_whole_reservation_and_a_late_settle_refunds_the_rest() -> None:
    world = prepaid_world(10 * estimate(1_000, 1_000))
    admission = live(world)
    assert isinstance(admission, Admission)
    world.meter.apply(world.meter.plan_expire(admission.hold))
    assert balance(world) == (9 * estimate(1_000, 1_000), 0)
    usage = Usage(input_tokens=100, output_tokens=100)
    world.meter.apply(world.meter.plan_late_settle(admission.hold, usage, "completed", False, "gpt-4o-mini"))
    assert balance(world) == (10 * estimate(1_000, 1_000) - cost_nano(usage, GPT_4O_MINI), 0)


def test_a_prepaid_account_gets_no_lease() -> None:
    world = prepaid_world(10**12)
    request = call_request(secret=LIVE_SECRET, customer_ref="cus_live")
    assert world.meter.acquire_lease(request, 16) is None


def test_a_hold_that_could_not_be_made_durable_gives_its_reservation_back() -> None:
    world = prepaid_world(estimate(1_000, 1_000))
    admission = live(world)
    assert isinstance(admission, Admission)
    world.meter.release(admission)
    assert balance(world) == (estimate(1_000, 1_000), 0)
    assert isinstance(live(world), Admission)


@FAST
@given(
    start=st.integers(min_value=0, max_value=5 * estimate(1_000, 1_000)),
    steps=st.lists(
        st.tuples(
            st.sampled_from(["admit", "settle", "expire"]),
            st.integers(min_value=0, max_value=2_000),  # usage tokens each way
            st.integers(min_value=1, max_value=2_000),  # max_tokens asked
        ),
        max_size=40,
    ),
)
def test_the_balance_never_goes_below_zero_and_pays_exactly_what_calls_cost(
    start: int, steps: list[tuple[str, int, int]]
) -> None:
    world = prepaid_world(start)
    open_calls: list[Admission] = []
    paid = 0
    for action, tokens, asked in steps:
        if action == "admit":
            decision = live(world, output_tokens=asked)
            if isinstance(decision, Admission):
                open_calls.append(decision)
            else:
                assert denial_code(decision) == "wallet_empty"
                assert balance(world)[0] - balance(world)[1] < estimate(1_000, 1)
        elif open_calls:
            admission = open_calls.pop(0)
            if action == "settle":
                usage = Usage(input_tokens=tokens, output_tokens=tokens)
                paid += min(cost_nano(usage, GPT_4O_MINI), admission.hold.prepaid_nano)
                world.settle(admission, usage)
            else:
                paid += admission.hold.prepaid_nano
                world.meter.apply(world.meter.plan_expire(admission.hold))
        funds, held = balance(world)
        assert funds >= 0 and held >= 0 and funds - held >= 0
        assert funds == start - paid
        assert held == sum(a.hold.prepaid_nano for a in open_calls)
