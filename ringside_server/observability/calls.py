"""What one request's metered call learned on its way (customer, model, tokens, spend, time at the
provider), for its one log line and its metrics. The transport sets a fresh `CallRecord` per
request in `CURRENT_CALL`; the metering code fills it where it already has the figures."""

from __future__ import annotations

import time
from contextvars import ContextVar
from dataclasses import dataclass, field

from ringside_server.observability.metrics import EdgeMetrics


@dataclass(slots=True)
class CallRecord:
    started: float = field(default_factory=time.perf_counter)
    customer_id: str = ""
    model: str = ""
    provider: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    cost_nano_usd: int = 0
    billable_nano_usd: int = 0
    upstream_s: float = 0.0  # summed over the call's attempts
    first_byte_s: float | None = None  # since `started`, once the first body byte was written
    metered: bool = False  # an attempt was admitted (the figures above mean something)
    request_id: str = ""  # the admitted call's id (the core's or the lease's), once admitted
    lease_id: str = ""  # the lease it was admitted under (its request-log entry rides its report)
    # The call as asked (set once the request was valid enough to resolve): for the request log.
    asked: str = ""
    caller: tuple[str, str, str, str] = ("", "", "", "")  # api key, Client Token, FC-Customer, user


CURRENT_CALL: ContextVar[CallRecord | None] = ContextVar("ringside_call", default=None)


def asked(model_ref: str, caller: tuple[str, str, str, str]) -> None:
    """The model ref a call asked for, and who asked (key, Client Token, FC-Customer, user)."""
    record = CURRENT_CALL.get()
    if record is not None:
        record.asked, record.caller = model_ref, caller


def admitted(metrics: EdgeMetrics | None, path: str, customer_id: str, request_id: str, lease_id: str = "") -> None:
    """An attempt cleared to go upstream, by a lease (`lease_id`) or by the core (`path`)."""
    if metrics is not None:
        metrics.child(metrics.admissions, path).inc()
    record = CURRENT_CALL.get()
    if record is not None:
        record.metered = True
        record.customer_id = customer_id
        record.request_id = request_id
        record.lease_id = lease_id


def refused(metrics: EdgeMetrics | None, code: str) -> None:
    if metrics is not None:
        metrics.refusals.labels(code).inc()


def settled(
    metrics: EdgeMetrics | None,
    provider: str,
    model: str,
    outcome: str,
    tokens: tuple[int, int],
    spend: tuple[int, int],
    upstream_s: float,
) -> None:
    """One attempt settled: `tokens` (input, output), `spend` (cost, billable), its time upstream."""
    record = CURRENT_CALL.get()
    customer_id = ""
    if record is not None:
        record.provider, record.model = provider, model
        record.input_tokens += tokens[0]
        record.output_tokens += tokens[1]
        record.cost_nano_usd += spend[0]
        record.billable_nano_usd += spend[1]
        record.upstream_s += upstream_s
        customer_id = record.customer_id
    if metrics is not None:
        metrics.settled(provider, model, outcome, tokens, spend, customer_id)
        if upstream_s:
            metrics.child(metrics.upstream_duration, provider, model).observe(upstream_s)


def first_byte() -> None:
    """The first body byte of the answer went out (a stream's time to first byte)."""
    record = CURRENT_CALL.get()
    if record is not None and record.first_byte_s is None:
        record.first_byte_s = time.perf_counter() - record.started
