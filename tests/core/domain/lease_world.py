"""Helpers of the lease tests: a lease for a world, its calls, its reports."""

from __future__ import annotations

from hypothesis import settings

from core.domain.calls import CallRequest
from core.domain.entities import Denial, Hold, LeaseAdmission, UsageRecord
from core.domain.metering import MAX_LEASE_CALLS, Admission
from core.domain.settlement import FinishedCall, SettlePlan
from ringside_server.money import Usage
from tests.core.domain.world import (
    GPT_4O_MINI,
    MODEL_MAX_OUTPUT,
    WRITE_SECRET,
    World,
    estimate,
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


def admit(world: World, lease: Hold, *request_ids: str, estimate_nano: int = ONE_CALL) -> None:
    """The edge reports these calls admitted under the lease."""
    now = int(world.clock.now)
    calls = [
        LeaseAdmission(request_id, lease.id, "fc:openai/gpt-4o-mini", "openai", estimate_nano, now)
        for request_id in request_ids
    ]
    world.meter.admit_calls(lease, world.meter.new_admissions(lease, calls))


def report(world: World, lease: Hold, *calls: FinishedCall) -> SettlePlan:
    plan = world.meter.plan_lease_calls(lease, calls)
    world.meter.apply(plan)
    return plan


def usage_records(plan: SettlePlan) -> list[UsageRecord]:
    return [record for record in plan.records if isinstance(record, UsageRecord)]
