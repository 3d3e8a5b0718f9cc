"""A fake core for the edge's lease tests: it speaks the MeteringService messages (records every
request and answers like the core would); time is a fake clock, so a lease window passes when a test
says so."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from ringside.core.v1 import common_pb2, metering_pb2
from ringside_server.admission import estimate_nano
from ringside_server.errors import RingsideError
from ringside_server.metering.leases import LeaseManager, Ticket
from ringside_server.money import Price

WINDOW_S = 1.0
PRICE = common_pb2.Price(input_nano_usd_per_mtok=150_000_000, output_nano_usd_per_mtok=600_000_000)
ONE_CALL = estimate_nano(1_000, 1_000, 1, Price(input=150_000_000, output=600_000_000), 0)  # 750_000 nano-USD
ACQUIRE, SETTLE, EXTEND = "AcquireLease", "SettleLeaseCalls", "ExtendHold"
REPORTS = "SettleLeaseReports"  # a round's reports in one call (each also recorded as a SETTLE)
SUCCESSOR = "successor"  # a lease asked for with a report (SettleLeaseCallsRequest.successor)
DEADLINE_S = 5.0


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def monotonic(self) -> float:
        return self.now


@dataclass
class FakeCore:
    """Stands in for ringside_server.core_client.CoreClient: `.metering.<Method>` and `internal()`."""

    lease_calls: int = 16  # what a granted lease is worth, in estimates of the asking call
    lease_tokens: int = 0  # the tokens its calls may take (0: no TPM limit)
    rate_limits: metering_pb2.RateLimitStatus = field(default_factory=metering_pb2.RateLimitStatus)
    answer: Callable[[metering_pb2.AcquireLeaseRequest], metering_pb2.AcquireLeaseResponse] | None = None
    gate: asyncio.Event | None = None  # AcquireLease waits for it when set
    report_gate: asyncio.Event | None = None  # SettleLeaseCalls waits for it when set
    report_error: RingsideError | None = None
    requests: list[tuple[str, Any]] = field(default_factory=list)
    accepted: list[metering_pb2.SettleLeaseCallsRequest] = field(default_factory=list)  # reports that landed
    acquiring: asyncio.Event = field(default_factory=asyncio.Event)
    metering: SimpleNamespace = field(
        default_factory=lambda: SimpleNamespace(
            AcquireLease=ACQUIRE, SettleLeaseCalls=SETTLE, SettleLeaseReports=REPORTS, ExtendHold=EXTEND
        )
    )

    def owner_address(self, account_id: str) -> str:
        return ""  # one core

    async def internal_to(self, method: str, request: Any, account_id: str, timeout_s: float = 10.0) -> Any:
        """SettleLeaseReports: each report answered as SettleLeaseCalls answers it, on its own."""
        assert method == REPORTS, method
        self.requests.append((method, request))
        response = metering_pb2.SettleLeaseReportsResponse()
        for report in request.reports:
            try:
                response.results.add(answer=await self.internal(SETTLE, report))
            except RingsideError as error:
                response.results.add(error_code=error.code, error_message=error.message)
        return response

    async def internal(self, method: str, request: Any, timeout_s: float = 10.0) -> Any:
        self.requests.append((method, request))
        if method == ACQUIRE:
            self.acquiring.set()
            if self.gate is not None:
                await self.gate.wait()
            return self.answer(request) if self.answer else self.grant(request)
        if method == SETTLE:
            if self.report_gate is not None:
                await self.report_gate.wait()
            if self.report_error is not None:
                raise self.report_error
            self.accepted.append(request)
            response = metering_pb2.SettleLeaseCallsResponse(recorded=len(request.calls), closed=request.close)
            if request.HasField("successor"):  # asked for with the report: answered as AcquireLease
                self.requests.append((SUCCESSOR, request.successor))
                response.successor.CopyFrom(
                    self.answer(request.successor) if self.answer else self.grant(request.successor)
                )
            return response
        return metering_pb2.ExtendHoldResponse(hold_expires_at=2_000_000_000)

    def grant(self, request: metering_pb2.AcquireLeaseRequest) -> metering_pb2.AcquireLeaseResponse:
        call = request.call
        one = estimate_nano(
            call.input_tokens_bound,
            call.requested_output_tokens,
            max(1, call.choices),
            Price(input=call.price.input_nano_usd_per_mtok, output=call.price.output_nano_usd_per_mtok),
            0,
        )
        return metering_pb2.AcquireLeaseResponse(
            granted=True,
            lease_id=f"lse_{len(self.asked()) - 1}",
            amount_nano_usd=self.lease_calls * one,
            account_id="acct_1",
            customer_id=call.customer_ref,
            calls=self.lease_calls,
            tokens=self.lease_tokens,
            admit_for_ms=int(WINDOW_S * 1000),
            rate_limits=self.rate_limits,
        )

    def asked(self) -> list[metering_pb2.AcquireLeaseRequest]:
        """Every lease asked for: by AcquireLease, or as a successor with a report."""
        return [request for name, request in self.requests if name in (ACQUIRE, SUCCESSOR)]

    def sent(self, method: str) -> list[Any]:
        return [request for name, request in self.requests if name == method]

    def reports(self, lease_id: str | None = None) -> list[metering_pb2.SettleLeaseCallsRequest]:
        """The reports the core took (a failed attempt recorded nothing)."""
        return [r for r in self.accepted if lease_id is None or r.lease_id == lease_id]

    def reported_ids(self, lease_id: str | None = None) -> list[str]:
        return [call.request_id for report in self.reports(lease_id) for call in report.calls]


def call(customer_ref: str = "cus_1", output_tokens: int = 1_000) -> metering_pb2.AuthorizeRequest:
    return metering_pb2.AuthorizeRequest(
        api_key="sk_test_" + "k" * 40,
        customer_ref=customer_ref,
        model_ref="fc:openai/gpt-4o-mini",
        provider="openai",
        price=PRICE,
        input_tokens_bound=1_000,
        requested_output_tokens=output_tokens,
        model_max_output_tokens=16_384,
    )


def outcome(input_tokens: int = 1_000, output_tokens: int = 1_000) -> metering_pb2.LeaseCall:
    return metering_pb2.LeaseCall(
        model_ref="fc:openai/gpt-4o-mini",
        provider="openai",
        price=PRICE,
        usage=common_pb2.TokenCounts(input_tokens=input_tokens, output_tokens=output_tokens),
        outcome=metering_pb2.SETTLE_OUTCOME_COMPLETED,
        upstream_model="gpt-4o-mini",
    )


async def ticket(manager: LeaseManager, request: metering_pb2.AuthorizeRequest | None = None) -> Ticket:
    admitted = await manager.admit(request or call())
    assert isinstance(admitted, Ticket), admitted
    return admitted


async def eventually(condition: Callable[[], object]) -> None:
    """Until `condition()` holds, polled every 10 ms up to DEADLINE_S (the test's assertion follows)."""
    for _ in range(int(DEADLINE_S / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)


async def flush_until_quiet(manager: LeaseManager, core: FakeCore) -> None:
    """Flush until a round sends nothing (bounded)."""
    for _ in range(20):
        before = len(core.requests)
        await manager.flush()
        if len(core.requests) == before:
            return
    raise AssertionError("the lease manager kept reporting")
