"""One admitted attempt of a metered call: its hold is durable, and every path out of it settles it
exactly once — a complete answer, a provider error before the first byte, a stream that ends, breaks
or whose client leaves, a cancellation, an unexpected exception."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, Callable
from typing import Any

import orjson

from ringside.core.v1 import metering_pb2
from ringside_server.errors import RingsideError
from ringside_server.metering import fallbacks
from ringside_server.metering.gateway import Gateway
from ringside_server.metering.request import Answer, MeteredRequest, Relay
from ringside_server.metering.settlement import (
    ABORTED,
    COMPLETED,
    FAILED,
    Admitted,
    SettleOutcome,
    counted_usage,
    finish,
    spend_of,
    usage_from_body,
)
from ringside_server.money_proto import usage_from
from ringside_server.observability import calls, tracing
from ringside_server.openai.errors import provider_error
from ringside_server.openai.sse import (
    StreamTally,
    error_frame,
    frame_batches,
    frames,
    one_by_one,
    relay_frame,
    usage_frame_with,
)
from ringside_server.providers import capabilities
from ringside_server.providers.base import UpstreamResponse
from ringside_server.providers.catalog.load import CatalogModel
from ringside_server.providers.openai_compat import HttpUpstreamResponse
from ringside_server.usd import nano_to_usd

OUTCOME_NAMES = {COMPLETED: "completed", ABORTED: "aborted", FAILED: "failed"}
SSE_HEADERS = {"Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache"}


class Attempt:
    """One attempt: admitted on its own (its own hold), sent to one model, settled once."""

    def __init__(
        self, gateway: Gateway, request: MeteredRequest, model: CatalogModel, decision: Admitted, input_bound: int
    ) -> None:
        self.gateway = gateway
        self.request = request
        self.model = model
        self.decision = decision
        self.input_bound = input_bound  # the prompt's bound the admission held for
        body = request.body
        self.client_wants_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        self.upstream_body = request.upstream_body(body, model, decision.max_output_tokens, decision.output_limited)
        self.headers = {"x-request-id": decision.request_id, "X-Ringside-Model-Resolved": model.ref}
        if decision.rate is not None:
            self.headers.update(decision.rate.headers())
        self.settled = False
        self.streaming = False  # once a relay is handed out, it settles the attempt
        self.tally = StreamTally()
        self.upstream: UpstreamResponse | None = None
        self.sent_at = 0.0  # perf_counter when sent upstream (0: never sent)
        # Its hold (or its lease) stays alive until it is settled, whatever the upstream does.
        self.kept_hold = decision.ticket.lease.id if decision.ticket is not None else decision.request_id
        gateway.keepalive.keep(self.kept_hold)

    async def try_open(self) -> fallbacks.Failure | None:
        """Open the upstream for an attempt that may be followed by another. On a failure worth
        another attempt (429/5xx, timeout, unreachable), settle this one as failed — the provider
        answered nothing, so nothing is billed — and say so; None: opened, go on with this one."""
        try:
            upstream = await self._open()
        except RingsideError as error:  # _open settled it
            if error.code in fallbacks.RETRYABLE_ERRORS:
                return fallbacks.Failure(error.code, move_on=True)
            raise
        if upstream.status not in fallbacks.RETRYABLE_STATUSES:
            return None
        code = "model_unavailable" if upstream.status in (429, 503) else "upstream_error"
        failure = fallbacks.Failure(code, fallbacks.retry_after_s(upstream.header("retry-after")))
        upstream.close()
        self.upstream = None
        await self._settle(FAILED, usage_from_body(None), False, "")
        return failure

    async def _open(self) -> UpstreamResponse:
        if self.upstream is not None:  # opened by try_open
            return self.upstream
        breakers = self.gateway.breakers
        try:
            provider = self.gateway.provider_for(self.model, self.decision.livemode)
            self.sent_at = time.perf_counter()
            self.upstream = await capabilities.send(provider, self.request.route, self.upstream_body)
        except RingsideError as error:
            if error.code in fallbacks.RETRYABLE_ERRORS:
                breakers.failed(self.model.provider)
            await self._settle(FAILED, usage_from_body(None), False, "")
            raise
        if self.upstream.status in fallbacks.RETRYABLE_STATUSES:
            breakers.failed(self.model.provider)
        else:
            breakers.succeeded(self.model.provider)
        return self.upstream

    async def _settle(
        self, outcome: SettleOutcome, usage: Any, estimated: bool, upstream_model: str
    ) -> metering_pb2.SettleResponse | None:
        if self.settled:
            return None
        self.settled = True
        upstream_s = time.perf_counter() - self.sent_at if self.sent_at else 0.0
        outcome_name = OUTCOME_NAMES.get(outcome, "unknown")
        try:
            with tracing.tracer.start_as_current_span("ringside.settle") as span:
                span.set_attributes({"ringside.outcome": outcome_name, "ringside.model": self.model.ref})
                settled = await finish(
                    self.gateway, self.decision, self.model, outcome, usage, estimated, upstream_model
                )
        finally:
            self.gateway.keepalive.release(self.kept_hold)
        counts = usage_from(usage)
        calls.settled(
            self.gateway.metrics,
            self.model.provider,
            self.model.ref,
            outcome_name,
            (counts.prompt_tokens, counts.completion_tokens),
            spend_of(self.decision, self.model, usage, settled),
            upstream_s,
        )
        return settled

    async def settle_unfinished(self, client_gone: bool = False) -> None:
        """Whatever stopped this attempt, it is settled for what it generated (or as failed); a
        client that left mid-stream is an abort."""
        if self.upstream is not None:
            self.upstream.close()  # cancels the upstream call
        outcome = ABORTED if client_gone or self.tally.content_chunks else FAILED
        await self._settle_partial(outcome)

    async def answer(self) -> Answer:
        """Open (if not yet), then the complete answer or, for a stream, its relay."""
        upstream = await self._open()
        if upstream.status >= 400:
            return await self._upstream_failed(upstream)
        if self.request.byte_stream:
            return self._byte_relay(upstream)
        if self.request.stream and self.request.event_usage is not None:
            return self._event_relay(upstream, self.request.event_usage)
        return await (self._relay() if self.request.stream else self._complete(upstream))

    def _event_relay(self, upstream: UpstreamResponse, event_usage: Callable[[Any], Any]) -> Answer:
        """A stream of the route's own SSE events (a transcription's), relayed frame by frame; the
        usage an event carries settles the call when the stream ends (without one: the bound)."""
        headers = {**self.headers, **SSE_HEADERS}
        if self.decision.wallet_balance_before is not None:  # streams tell the balance before the call
            headers["X-Ringside-Wallet-Balance"] = usd_header(self.decision.wallet_balance_before)
        self.streaming = True
        reported: list[Any] = []

        def usage() -> Any:
            answer = {"usage": reported[-1]} if reported else None
            return usage_from_body({"usage": self.request.answer_usage(answer, self.model)})

        async def events() -> AsyncGenerator[bytes, None]:
            try:
                async for frame in frames(upstream.lines()):
                    data = b"\n".join(line[5:].strip() for line in frame.splitlines() if line.startswith(b"data:"))
                    with contextlib.suppress(orjson.JSONDecodeError):
                        found = event_usage(orjson.loads(data)) if data else None
                        reported.extend([found] if found is not None else [])
                    yield frame
            except RingsideError as error:
                upstream.close()
                await self._settle(ABORTED, usage(), not reported, "")
                yield self._error_frame(error.code, error.message)
                return
            await self._settle(COMPLETED, usage(), not reported, "")

        stream = events()

        async def close(client_gone: bool) -> None:
            await stream.aclose()
            if not self.settled:
                upstream.close()
                await self._settle(ABORTED, usage(), not reported, "")

        return Answer(200, headers, relay=Relay(stream, close), content_type="text/event-stream")

    def _byte_relay(self, upstream: UpstreamResponse) -> Answer:
        """A binary answer (speech's audio) relayed as it arrives; its price was known before the call,
        so it settles at that price once the body ended, or was cut off (the provider bills it whole)."""
        content_type = upstream.content_type().split(";")[0].strip()
        headers = {**self.headers, "Content-Type": content_type}
        if self.decision.wallet_balance_before is not None:  # streams tell the balance before the call
            headers["X-Ringside-Wallet-Balance"] = usd_header(self.decision.wallet_balance_before)
        self.streaming = True
        usage = usage_from_body({"usage": self.request.answer_usage(None, self.model)})

        async def chunks() -> AsyncGenerator[bytes, None]:
            read = getattr(upstream, "chunks", upstream.lines)  # HTTP upstreams read chunks as they come
            try:
                async for chunk in read():
                    yield chunk
            except RingsideError:  # cut off: a binary body has no error frame, it just ends short
                upstream.close()
                await self._settle(ABORTED, usage, False, "")
                return
            await self._settle(COMPLETED, usage, False, "")

        events = chunks()

        async def close(client_gone: bool) -> None:
            await events.aclose()
            if not self.settled:
                upstream.close()
                await self._settle(ABORTED, usage, False, "")

        return Answer(200, headers, relay=Relay(events, close), content_type=content_type)

    async def _upstream_failed(self, upstream: UpstreamResponse) -> Answer:
        try:
            payload = await upstream.read(self.request.max_answer_bytes)
        finally:
            await self._settle(FAILED, usage_from_body(None), False, "")
        status, body = provider_error(upstream.status, payload, self.decision.request_id)
        return Answer(status, dict(self.headers), body)

    async def _complete(self, upstream: UpstreamResponse) -> Answer:
        try:
            payload = await upstream.read(self.request.max_answer_bytes)
        except RingsideError:
            await self._settle(FAILED, usage_from_body(None), False, "")
            raise
        try:
            parsed = orjson.loads(payload)
        except orjson.JSONDecodeError:
            parsed = None
        problem = self.request.answer_problem(parsed)
        if problem is not None:
            await self._settle(FAILED, usage_from_body(None), False, "")
            raise RingsideError("upstream_error", problem)
        upstream_model = str(parsed.get("model", "")) if isinstance(parsed, dict) else ""
        usage = usage_from_body({"usage": self.request.answer_usage(parsed, self.model)})
        settled = await self._settle(COMPLETED, usage, False, upstream_model)
        headers = dict(self.headers)
        if settled is not None and settled.HasField("wallet_balance_nano_usd"):
            headers["X-Ringside-Wallet-Balance"] = usd_header(settled.wallet_balance_nano_usd)
            headers["X-Ringside-Wallet-Deducted"] = usd_header(settled.posted_nano_usd)
        # a JSON answer is JSON whatever the upstream said; others (speech's audio) keep their type
        content_type = "application/json" if parsed is not None else upstream.content_type().split(";")[0].strip()
        return Answer(200, headers, payload, content_type=content_type)

    async def _relay(self) -> Answer:
        headers = {**self.headers, **SSE_HEADERS}
        if self.decision.wallet_balance_before is not None:  # streams tell the balance before the call
            headers["X-Ringside-Wallet-Balance"] = usd_header(self.decision.wallet_balance_before)
        self.streaming = True
        events = self._events()

        async def close(client_gone: bool) -> None:
            await events.aclose()
            if not self.settled:
                await self.settle_unfinished(client_gone)

        return Answer(200, headers, relay=Relay(events, close), content_type="text/event-stream")

    async def _events(self) -> AsyncGenerator[bytes, None]:
        """The client's frames; the call is settled before its last frame ([DONE]) is given out.
        The frames one upstream read brought go out as one piece (one write to the client)."""
        upstream = self.upstream
        assert upstream is not None
        tally = self.tally
        holds_usage = self.decision.wallet_balance_before is not None
        # An HTTP upstream is read as its bytes come; the others (in memory, translated) by line.
        batches = (
            frame_batches(upstream.chunks())
            if isinstance(upstream, HttpUpstreamResponse)
            else one_by_one(frames(upstream.lines()))
        )
        try:
            try:
                async for batch in batches:
                    out = []
                    for frame in batch:
                        relayed = relay_frame(frame, tally, self.client_wants_usage, holds_usage)
                        if tally.done_frame:
                            break
                        if relayed:
                            out.append(relayed)
                    if out:
                        yield out[0] if len(out) == 1 else b"".join(out)
                    if tally.done_frame:
                        break
            finally:
                await batches.aclose()  # left at [DONE] (or the client gone): the reading closed now
        except RingsideError as error:
            upstream.close()
            await self._settle_partial(ABORTED if tally.content_chunks else FAILED)
            yield self._error_frame(error.code, error.message)
            return
        if not tally.done_frame:  # the upstream ended without [DONE]
            await self._settle_partial(ABORTED if tally.content_chunks else FAILED)
            yield self._error_frame("upstream_error", "The provider's stream ended early.")
            return
        settled = None
        if tally.usage is not None:
            settled = await self._settle(COMPLETED, usage_from_body({"usage": tally.usage}), False, tally.model)
        else:
            await self._settle_partial(COMPLETED)
        if tally.usage_chunk is not None:  # a wallet call's usage chunk, now with what it cost
            ringside: dict[str, Any] = {}
            if settled is not None:
                ringside = {"billable_amount_usd": nano_to_usd(settled.posted_nano_usd)}
                if settled.HasField("wallet_balance_nano_usd"):
                    ringside["wallet_balance_usd"] = nano_to_usd(settled.wallet_balance_nano_usd)
            yield usage_frame_with(tally.usage_chunk, ringside)
        yield tally.done_frame

    def _error_frame(self, code: str, message: str) -> bytes:
        error = {"type": "api_error", "code": code, "message": message, "param": None}
        return error_frame({**error, "request_id": self.decision.request_id})

    async def _settle_partial(self, outcome: SettleOutcome) -> None:
        tally = self.tally
        if tally.usage is not None:
            await self._settle(outcome, usage_from_body({"usage": tally.usage}), False, tally.model)
            return
        bound = self.decision.max_output_tokens * max(1, int(self.upstream_body.get("n") or 1))
        await self._settle(outcome, counted_usage(tally, self.input_bound, bound), True, tally.model)


def usd_header(nano: int) -> str:
    """An amount for the wallet headers: decimal USD, no trailing zeros."""
    sign = "-" if nano < 0 else ""
    whole, fraction = divmod(abs(nano), 1_000_000_000)
    return f"{sign}{whole}.{fraction:09d}".rstrip("0").rstrip(".")


async def shielded_settle(attempt: Attempt, aborted: bool = False) -> None:
    """Settle an attempt left open (cancelled at shutdown, an unexpected error), even if the caller
    is cancelled again meanwhile."""
    await asyncio.shield(attempt.settle_unfinished(client_gone=aborted))
