"""A lease granted in a real core with calls to report under it (the lease report tests)."""

from __future__ import annotations

from dataclasses import dataclass

from core.domain.calls import CallRequest
from core.domain.entities import Hold, LeaseAdmission
from core.domain.metering import Admission
from core.domain.settlement import FinishedCall
from core.services.core import Core
from core.services.leases import acquire_lease
from ringside_server.ids import new_sortable_id
from ringside_server.money import Price, Usage

PRICE = Price(input=150_000_000, output=600_000_000)
USAGE = Usage(input_tokens=30, output_tokens=20)
MODEL = "fc:openai/gpt-4o-mini"


@dataclass(frozen=True)
class LeaseCalls:
    lease: Hold
    estimate_nano: int
    ids: list[str]
    admissions: list[LeaseAdmission]  # each call admitted under the lease
    finished: list[FinishedCall]  # each call finished at USAGE


async def lease_with_calls(core: Core, api_key: str, customer_ref: str, count: int) -> LeaseCalls:
    call = CallRequest(
        api_key=api_key,
        customer_ref=customer_ref,
        user="",
        model_ref=MODEL,
        provider="openai",
        price=PRICE,
        input_tokens_bound=40,
        requested_output_tokens=32,
        model_max_output_tokens=16_384,
    )
    granted = await acquire_lease(core, call, 4)
    assert isinstance(granted, Admission), granted
    lease = granted.hold
    estimate = lease.amount_nano // 4
    ids = [new_sortable_id("req") for _ in range(count)]
    return LeaseCalls(
        lease,
        estimate,
        ids,
        [LeaseAdmission(i, lease.id, lease.model_ref, lease.provider, estimate, core.now()) for i in ids],
        [
            FinishedCall(i, lease.model_ref, lease.provider, PRICE, estimate, USAGE, "completed", False, "m")
            for i in ids
        ],
    )
