"""ringside_server/admission.py: the core's admission and the edge's lease path agree (issue 13,
item 5). For the same call, account settings and usage, a ticket the edge takes from a lease may
use exactly what the core's per-call Authorize would reserve, and posts exactly what the core posts.
"""

from __future__ import annotations

import dataclasses

from hypothesis import given
from hypothesis import strategies as st

from core.domain.calls import CallRequest
from core.domain.metering import Admission
from core.domain.settlement import FinishedCall
from edge_http.leases import Lease, LeaseManager
from edge_http.openai.ratelimits import RateView
from ringside.core.v1 import common_pb2, metering_pb2
from ringside_server import admission
from ringside_server.money import Price, Usage
from tests.core.domain.world import FAST, WRITE_SECRET, World
from tests.edge_http.lease_fakes import FakeCore

PRICE_FIELDS = [field.name for field in dataclasses.fields(Price)]
USAGE_FIELDS = [field.name for field in dataclasses.fields(Usage)]
prices = st.builds(Price, *(st.integers(min_value=0, max_value=200_000_000_000) for _ in PRICE_FIELDS))
usages = st.builds(Usage, *(st.integers(min_value=0, max_value=300_000) for _ in USAGE_FIELDS))


@dataclasses.dataclass(frozen=True)
class Call:
    input_tokens_bound: int
    choices: int
    requested_output_tokens: int
    model_max_output_tokens: int
    price: Price


calls = st.builds(
    Call,
    st.integers(min_value=0, max_value=200_000),
    st.integers(min_value=1, max_value=4),
    st.integers(min_value=0, max_value=40_000),
    st.integers(min_value=0, max_value=40_000),
    prices,
)
account_defaults = st.none() | st.integers(min_value=1, max_value=40_000)
markups = st.integers(min_value=0, max_value=100_000)


def _request(call: Call) -> CallRequest:
    return CallRequest(
        api_key=WRITE_SECRET,
        customer_ref="cus_1",
        user="",
        model_ref="fc:openai/gpt-4o-mini",
        provider="openai",
        price=call.price,
        input_tokens_bound=call.input_tokens_bound,
        requested_output_tokens=call.requested_output_tokens,
        model_max_output_tokens=call.model_max_output_tokens,
        choices=call.choices,
    )


def _wire(call: Call) -> metering_pb2.AuthorizeRequest:
    price = common_pb2.Price(
        **{f"{name}_nano_usd_per_mtok": getattr(call.price, name) for name in PRICE_FIELDS}  # type: ignore[arg-type]
    )
    return metering_pb2.AuthorizeRequest(
        api_key=WRITE_SECRET,
        customer_ref="cus_1",
        model_ref="fc:openai/gpt-4o-mini",
        provider="openai",
        price=price,
        input_tokens_bound=call.input_tokens_bound,
        requested_output_tokens=call.requested_output_tokens,
        model_max_output_tokens=call.model_max_output_tokens,
        choices=call.choices,
    )


def _world(default_max_output_tokens: int | None, markup_bp: int) -> World:
    world = World()
    world.account.default_max_output_tokens = default_max_output_tokens
    world.account.markup_bp = markup_bp
    world.customer()
    return world


def _edge_lease(world: World, granted: Admission) -> Lease:
    """The lease as the edge holds it, from what the core's AcquireLease answers (core/rpc/metering.py)."""
    hold = granted.hold
    return Lease(
        id=hold.id,
        key=(WRITE_SECRET, "cus_1", "", "", ""),
        account_id=hold.account_id,
        livemode=hold.livemode,
        customer_id=hold.customer_id or "",
        markup_bp=hold.markup_bp,
        default_max_output_tokens=world.account.default_max_output_tokens or 0,
        amount_nano=hold.amount_nano,
        admit_until=float("inf"),
        granted_at=0.0,
        calls=granted.lease_calls,
        tokens=granted.lease_tokens,
        rate=RateView.of(metering_pb2.RateLimitStatus()),
    )


@FAST
@given(calls, account_defaults, markups)
def test_a_ticket_may_use_what_the_core_reserves_for_the_same_call(
    call: Call, default_max_output_tokens: int | None, markup_bp: int
) -> None:
    world = _world(default_max_output_tokens, markup_bp)
    per_call = world.meter.admit(_request(call))
    granted = world.meter.acquire_lease(_request(call), 16)
    assert isinstance(per_call, Admission), per_call
    if granted is None:  # a call that costs nothing gets no lease: nothing to compare
        assert per_call.hold.amount_nano == 0
        return
    assert isinstance(granted, Admission), granted
    ticket = LeaseManager(FakeCore(), "edge", 1.0)._take(_edge_lease(world, granted), _wire(call))  # type: ignore[arg-type]

    assert ticket is not None
    assert ticket.estimate_nano == per_call.hold.amount_nano
    assert ticket.max_output_tokens == per_call.max_output_tokens == granted.max_output_tokens
    assert granted.hold.amount_nano == granted.lease_calls * ticket.estimate_nano
    bound = admission.call_bound(
        call.input_tokens_bound,
        call.choices,
        call.requested_output_tokens,
        default_max_output_tokens,
        call.model_max_output_tokens,
        call.price,
        markup_bp,
    )
    assert (bound.output_tokens, bound.estimate_nano) == (ticket.max_output_tokens, ticket.estimate_nano)
    assert bound.tokens == _request(call).tokens_bound(per_call.max_output_tokens)


@FAST
@given(calls, account_defaults, markups, usages)
def test_a_ticket_posts_what_the_core_posts_for_the_same_usage(
    call: Call, default_max_output_tokens: int | None, markup_bp: int, usage: Usage
) -> None:
    world = _world(default_max_output_tokens, markup_bp)
    per_call = world.meter.admit(_request(call))
    granted = world.meter.acquire_lease(_request(call), 16)
    assert isinstance(per_call, Admission), per_call
    if not isinstance(granted, Admission):
        return
    ticket = LeaseManager(FakeCore(), "edge", 1.0)._take(_edge_lease(world, granted), _wire(call))  # type: ignore[arg-type]
    assert ticket is not None
    wire_usage = common_pb2.TokenCounts(**{name: getattr(usage, name) for name in USAGE_FIELDS})
    edge_posted = LeaseManager(FakeCore(), "edge", 1.0).finish(
        ticket, metering_pb2.LeaseCall(price=_wire(call).price, usage=wire_usage)
    )

    settled = world.meter.plan_settle(per_call.hold, usage, "completed", False, "")
    finished = FinishedCall(
        ticket.request_id, "m", "openai", call.price, ticket.estimate_nano, usage, "completed", False, ""
    )
    reported = world.meter.plan_lease_calls(granted.hold, [finished])
    assert edge_posted == settled.result.posted_nano == reported.consumed


def test_the_output_ceiling_is_max_tokens_else_the_default_else_the_model_maximum() -> None:
    assert admission.output_ceiling(500, 2_000, 16_384) == 500
    assert admission.output_ceiling(0, 2_000, 16_384) == 2_000
    assert admission.output_ceiling(0, None, 16_384) == 16_384
    assert admission.output_ceiling(99_999, None, 16_384) == 16_384  # never above the model's maximum
    assert admission.output_ceiling(99_999, None, 0) == 99_999  # the model's maximum unknown


def test_a_post_never_exceeds_what_was_reserved_nor_what_the_lease_has_left() -> None:
    assert admission.posted_nano(700, 1_000) == 700
    assert admission.posted_nano(1_700, 1_000) == 1_000
    assert admission.posted_nano(700, 1_000, 300) == 300
