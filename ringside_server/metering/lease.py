"""One lease on the edge, and one call taken under it: the admission arithmetic, no I/O.

A lease is a durable hold the core granted this edge for one caller (key, FC-Customer, user, IP,
Client Token): a slice of the customer's room worth a few calls (at most the core's
`MAX_LEASE_CALLS`), each call under it reserving its own upper-bound estimate. leases.py hands out
tickets against leases; lease_reports.py reports them to the core.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from ringside.core.v1 import metering_pb2
from ringside_server.admission import call_bound
from ringside_server.ids import new_request_id
from ringside_server.metering.journal import Segment
from ringside_server.money_proto import estimate_price_from
from ringside_server.openai.ratelimits import RateView

# A lease admits no more calls once something of it has waited this long to be reported.
REPORT_LAG_LIMIT_S = 0.25
# (api key, FC-Customer, user, client IP, client token): one lease per caller as the core's rate
# limit layers see it.
LeaseKey = tuple[str, str, str, str, str]


def lease_key(call: metering_pb2.AuthorizeRequest) -> LeaseKey:
    return (call.api_key, call.customer_ref, call.user, call.client_ip, call.client_token_id)


@dataclass(eq=False, slots=True)
class Lease:
    id: str
    key: LeaseKey
    account_id: str
    livemode: bool
    customer_id: str
    markup_bp: int
    default_max_output_tokens: int
    amount_nano: int
    admit_until: float
    granted_at: float
    calls: int  # request slots the core reserved for this lease
    tokens: int  # tokens its calls may take under a TPM limit (0: none applies)
    rate: RateView
    calls_taken: int = 0
    first_taken_at: float | None = None  # its caller's pace counts from here (a successor waits a while unused)
    tokens_taken: int = 0
    reserved_nano: int = 0
    used_nano: int = 0
    in_flight: int = 0
    retired: bool = False
    retire_told: bool = False  # the core knows it admits no more (its unused slots given back)
    reports: list[metering_pb2.LeaseCall] = field(default_factory=list)
    admissions: list[metering_pb2.LeaseCall] = field(default_factory=list)  # not reported yet
    # the journal segment of each admission and report above (empty without a journal)
    admission_segments: list[Segment] = field(default_factory=list)
    report_segments: list[Segment] = field(default_factory=list)
    failures: int = 0
    dropped: bool = False
    reporting: asyncio.Lock = field(default_factory=asyncio.Lock)  # one report at a time
    unreported_since: float | None = None  # when the oldest admission or call not yet reported came
    # Its successor, asked for with its next report (no AcquireLease of its own); kept, with its
    # lease id, until a report is answered; then `successor_asked` stays true (once per lease).
    successor: metering_pb2.AcquireLeaseRequest | None = None
    successor_sent_at: float | None = None  # when a report first carried it: the successor's window counts from then
    successor_asked: bool = False
    # its caller's ModelPolicy question: its reports keep the edge's allowed_models lists fresh
    policy_question: metering_pb2.ModelPolicyRequest | None = None

    def unreported(self, now: float) -> None:
        if self.unreported_since is None:
            self.unreported_since = now

    @property
    def available_nano(self) -> int:
        return self.amount_nano - self.reserved_nano - self.used_nano

    def money_share(self) -> float:
        """The share of its money reserved or used (0 for a free model's lease of nothing)."""
        return (self.reserved_nano + self.used_nano) / self.amount_nano if self.amount_nano else 0.0

    def calls_share(self) -> float:
        return self.calls_taken / self.calls

    def window_share(self, now: float) -> float:
        """The share of its window passed, once two calls were taken (a slow caller's lease runs out
        by time; a lease of one call says nothing of its caller's pace)."""
        if self.calls_taken < 2:
            return 0.0
        return (now - self.granted_at) / max(1e-9, self.admit_until - self.granted_at)


def granted(response: metering_pb2.AcquireLeaseResponse, key: LeaseKey, asked_at: float, window_s: float) -> Lease:
    """The lease the core granted in `response`. Its window counts from before asking: the core
    dates the lease's rate-limit charge from when it granted it, which is later, so every call
    admitted here stays inside its charge."""
    return Lease(
        id=response.lease_id,
        key=key,
        account_id=response.account_id,
        livemode=response.livemode,
        customer_id=response.customer_id,
        markup_bp=response.markup_bp,
        default_max_output_tokens=response.default_max_output_tokens,
        amount_nano=response.amount_nano_usd,
        admit_until=asked_at + min(window_s, response.admit_for_ms / 1000),
        granted_at=asked_at,
        calls=response.calls,
        tokens=response.tokens,
        rate=RateView.of(response.rate_limits),
    )


@dataclass(slots=True)
class Ticket:
    """One call admitted under a lease."""

    lease: Lease
    request_id: str
    estimate_nano: int
    max_output_tokens: int
    rate: RateView | None


def take(lease: Lease, call: metering_pb2.AuthorizeRequest) -> tuple[Ticket, metering_pb2.LeaseCall] | None:
    """`call` admitted under `lease` (its ticket, and the admission to report); None when the lease
    cannot cover it (spent, its tokens taken, or its reports not landing)."""
    bound = call_bound(
        call.input_tokens_bound,
        call.choices,
        call.requested_output_tokens,
        lease.default_max_output_tokens,
        call.model_max_output_tokens,
        estimate_price_from(call),
        lease.markup_bp,
    )
    if bound.estimate_nano > lease.available_nano or lease.calls_taken >= lease.calls:
        return None
    now = time.monotonic()
    if lease.unreported_since is not None and now - lease.unreported_since > REPORT_LAG_LIMIT_S:
        # Its reports are not landing (the core is down or slow): admit no more under it, or an
        # edge dying now would leave more calls unbilled than one report interval's.
        return None
    if lease.tokens and lease.tokens_taken + bound.tokens > lease.tokens:
        return None
    lease.reserved_nano += bound.estimate_nano
    lease.in_flight += 1
    lease.calls_taken += 1
    if lease.first_taken_at is None:
        lease.first_taken_at = now
    lease.tokens_taken += bound.tokens
    request_id = new_request_id()
    lease.unreported(now)
    admission = metering_pb2.LeaseCall(
        request_id=request_id,
        model_ref=call.model_ref,
        provider=call.provider,
        price=call.price,
        estimate_nano_usd=bound.estimate_nano,
    )
    lease.admissions.append(admission)
    ticket = Ticket(lease, request_id, bound.estimate_nano, bound.output_tokens, rate_view(lease, now))
    return ticket, admission


def rate_view(lease: Lease, now: float) -> RateView | None:
    """The limits left as this edge sees them: the core's count at grant (every slot of the lease
    taken) plus the slots this lease has not used yet."""
    rate = lease.rate
    if not rate.requests_limit and not rate.tokens_limit:
        return None
    elapsed_ms = int((now - lease.granted_at) * 1000)
    return RateView(
        rate.requests_limit,
        rate.requests_remaining + lease.calls - lease.calls_taken,
        max(0, rate.requests_reset_ms - elapsed_ms),
        rate.tokens_limit,
        rate.tokens_remaining + (lease.tokens - lease.tokens_taken if lease.tokens else 0),
        max(0, rate.tokens_reset_ms - elapsed_ms),
    )
