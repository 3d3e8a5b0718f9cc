"""A metered call's conversation with the core: admit (a lease, else the core's Authorize), settle
what happened (queued on the lease, or settled now). keepalive.py keeps its reservation alive."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any, TypeAlias

from ringside.core.v1 import common_pb2, metering_pb2
from ringside_server.core_client import CoreClient
from ringside_server.errors import RingsideError
from ringside_server.ids import new_request_id
from ringside_server.metering.gateway import Gateway
from ringside_server.metering.leases import Ticket
from ringside_server.money import billable_nano, cost_nano
from ringside_server.money_proto import price_from, usage_from
from ringside_server.observability import calls, tracing
from ringside_server.openai.ratelimits import RateView
from ringside_server.openai.sse import StreamTally
from ringside_server.openai.usage import token_counts
from ringside_server.providers.catalog.load import CatalogModel

log = logging.getLogger("ringside.metering")
SETTLE_ATTEMPTS = 8  # backing off to 2 s: rides out a core restart of ~10 s
# How a call ended, as the core records it: completed, aborted (the client left, or the stream broke
# after content), failed (nothing generated: nothing billed but the input).
SettleOutcome: TypeAlias = metering_pb2.SettleOutcome
COMPLETED: SettleOutcome = metering_pb2.SETTLE_OUTCOME_COMPLETED
ABORTED: SettleOutcome = metering_pb2.SETTLE_OUTCOME_ABORTED
FAILED: SettleOutcome = metering_pb2.SETTLE_OUTCOME_FAILED


def price_of(model: CatalogModel) -> common_pb2.Price:
    p = model.prices
    return common_pb2.Price(
        input_nano_usd_per_mtok=p["input"],
        cached_input_nano_usd_per_mtok=p["cached_input"],
        cache_write_nano_usd_per_mtok=p["cache_write"],
        output_nano_usd_per_mtok=p["output"],
        reasoning_nano_usd_per_mtok=p["reasoning"],
        audio_input_nano_usd_per_mtok=p["audio_input"],
        audio_output_nano_usd_per_mtok=p["audio_output"],
        image_input_nano_usd_per_mtok=p["image_input"],
    )


def counted_usage(tally: StreamTally, input_bound: int, max_output: int) -> common_pb2.TokenCounts:
    """Usage when the provider never reported it (a client abort): what went by, counted.

    Output: one token per content chunk (OpenAI streams a token a chunk), at least ⌈bytes/4⌉, at
    most the bound sent upstream. Input: ⌈bound/4⌉ (the bound counts bytes; ~4 bytes a token).
    """
    output = max(tally.content_chunks, -(-tally.content_bytes // 4))
    return common_pb2.TokenCounts(input_tokens=-(-input_bound // 4), output_tokens=min(output, max_output))


async def settle(
    gateway: Gateway,
    request_id: str,
    outcome: SettleOutcome,
    usage: common_pb2.TokenCounts,
    estimated: bool,
    upstream_model: str,
) -> metering_pb2.SettleResponse | None:
    """Settle, retrying briefly; None when the core cannot be reached: the answer goes on without
    it, and the settle is retried in the background for as long as this process lives (the hold
    may expire meanwhile, posted at its reserve; the settle then corrects it to the actual amount)."""
    request = metering_pb2.SettleRequest(
        request_id=request_id,
        usage=usage,
        outcome=outcome,
        usage_estimated=estimated,
        upstream_model=upstream_model[:300],
    )
    try:
        return await settle_retried(gateway.core, request)
    except RingsideError:
        log.error("settle of %s failed %d times; retrying it in the background", request_id, SETTLE_ATTEMPTS)
    task = asyncio.get_running_loop().create_task(_settle_later(gateway, request), name=f"settle-{request_id}")
    _settling_later.add(task)
    task.add_done_callback(_settling_later.discard)
    return None


RETRYABLE_SETTLE = ("service_unavailable", "conversation_locked")


async def settle_retried(core: CoreClient, request: metering_pb2.SettleRequest) -> metering_pb2.SettleResponse | None:
    """Settle, retrying briefly while the core is unreachable or its account changes hands (a
    takeover: "not owner" and unreachable answers are `service_unavailable`, docs/scaling.md) —
    the edge's settles and the rag role's (ingest, migration batches, media reads), so that a hold
    is not left to expire at its reserve because a core was away for a few seconds (a settle is
    idempotent on its request id: a repeat is a replay). None
    when the core refused it; raises the last RingsideError when it could not be reached."""
    for attempt in range(SETTLE_ATTEMPTS):
        try:
            return await core.settle(request)
        except RingsideError as error:
            if error.code not in RETRYABLE_SETTLE:
                log.error("settle of %s refused: %s", request.request_id, error)
                return None
            if attempt == SETTLE_ATTEMPTS - 1:
                raise
            await asyncio.sleep(min(2.0, 0.1 * 2**attempt))
    raise AssertionError("unreachable")


SETTLE_LATER_FOR_S = 24 * 3600.0  # a core down longer than this: the hold's expiry stands
_settling_later: set[asyncio.Task[None]] = set()  # referenced until done


async def _settle_later(gateway: Gateway, request: metering_pb2.SettleRequest) -> None:
    deadline = time.monotonic() + SETTLE_LATER_FOR_S
    delay = 2.0
    while time.monotonic() < deadline:
        await asyncio.sleep(delay)
        delay = min(30.0, delay * 2)
        try:
            await gateway.core.settle(request)
            log.info("settle of %s recorded after retries", request.request_id)
            return
        except RingsideError as error:
            if error.code not in RETRYABLE_SETTLE:
                log.error("settle of %s refused: %s", request.request_id, error)
                return


def usage_from_body(body: Any) -> common_pb2.TokenCounts:
    return token_counts(body.get("usage") if isinstance(body, dict) else None)


@dataclass(frozen=True, slots=True)
class Admitted:
    """A call cleared to go upstream, by a lease (ticket) or by the core's per-call Authorize."""

    request_id: str
    livemode: bool
    max_output_tokens: int
    output_limited: bool
    hold_expires_at: int
    ticket: Ticket | None = None
    wallet_balance_before: int | None = None
    rate: RateView | None = None  # for the x-ratelimit-* headers


async def admit(gateway: Gateway, call: metering_pb2.AuthorizeRequest) -> Admitted | metering_pb2.Denial:
    """The fast path when a lease can cover the call, else the core authorizes it alone."""
    with tracing.tracer.start_as_current_span("ringside.admit") as span:
        decision = await _admit(gateway, call)
        if isinstance(decision, Admitted):
            span.set_attributes(
                {tracing.REQUEST_ID: decision.request_id, "ringside.lease": decision.ticket is not None}
            )
        else:
            span.set_attribute("ringside.refusal", decision.code)
        return decision


async def _admit(gateway: Gateway, call: metering_pb2.AuthorizeRequest) -> Admitted | metering_pb2.Denial:
    if gateway.leases is not None:
        leased = await gateway.leases.admit(call)
        if isinstance(leased, Ticket):
            lease = leased.lease
            calls.admitted(gateway.metrics, "lease", lease.customer_id, leased.request_id, lease.id)
            expires = int(time.time()) + gateway.settings.hold_ttl_s
            return Admitted(
                leased.request_id, lease.livemode, leased.max_output_tokens, False, expires, leased, rate=leased.rate
            )
        if leased is not None:
            calls.refused(gateway.metrics, leased.code)
            return leased  # the core refused the caller outright
    if not call.request_id:
        # Chosen here, not by the core: an Authorize cut off in flight (its core died under it) is
        # resent under the same id, and the core answers with the hold it made, never a second one.
        call.request_id = new_request_id()
    decision = await gateway.core.authorize(call)
    if not decision.allowed:
        calls.refused(gateway.metrics, decision.denial.code)
        return decision.denial
    calls.admitted(gateway.metrics, "core", decision.customer_id, decision.request_id)
    return Admitted(
        decision.request_id,
        decision.livemode,
        decision.max_output_tokens,
        decision.output_limited,
        decision.hold_expires_at,
        wallet_balance_before=(
            decision.wallet_balance_nano_usd if decision.HasField("wallet_balance_nano_usd") else None
        ),
        rate=RateView.of(decision.rate_limits),
    )


async def finish(
    gateway: Gateway,
    admitted: Admitted,
    model: CatalogModel,
    outcome: SettleOutcome,
    usage: common_pb2.TokenCounts,
    estimated: bool,
    upstream_model: str,
) -> metering_pb2.SettleResponse | None:
    """Settle a finished call: queued for the lease's next report, or settled by the core now."""
    if admitted.ticket is not None and gateway.leases is not None:
        gateway.leases.finish(
            admitted.ticket,
            metering_pb2.LeaseCall(
                model_ref=model.ref,
                provider=model.provider,
                price=price_of(model),
                usage=usage,
                outcome=outcome,
                usage_estimated=estimated,
                upstream_model=upstream_model[:300],
            ),
        )
        return None
    return await settle(gateway, admitted.request_id, outcome, usage, estimated, upstream_model)


def spend_of(
    admitted: Admitted, model: CatalogModel, usage: common_pb2.TokenCounts, settled: metering_pb2.SettleResponse | None
) -> tuple[int, int]:
    """(cost, billable) of a settled attempt, nano-USD: the core's figures, or for a lease's call the
    edge's own (what the lease will post at its next report); (0, 0) when the core was unreachable."""
    if settled is not None:
        return settled.cost_nano_usd, settled.billable_nano_usd
    if admitted.ticket is None:
        return 0, 0
    cost = cost_nano(usage_from(usage), price_from(price_of(model)))
    return cost, billable_nano(cost, admitted.ticket.lease.markup_bp)
