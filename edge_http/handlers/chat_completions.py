"""POST /v1/chat/completions: authorize → provider → relay → settle.

Read top to bottom: parse the body, resolve the model, ask the core to hold the call's upper bound,
send the (rewritten) request upstream, relay the answer (SSE byte for byte), settle the real usage.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson
from aiohttp import web

from edge_http import fallbacks
from edge_http.client_tokens import token_of
from edge_http.context import EDGE, TEST_PROVIDER, Edge
from edge_http.handlers.common import authorize_request, bearer, reject, verify_then_raise
from edge_http.metering import (
    ABORTED,
    COMPLETED,
    FAILED,
    Admitted,
    admit,
    counted_usage,
    extend,
    finish,
    usage_from_body,
)
from edge_http.openai.errors import provider_error_response
from edge_http.openai.estimate import input_tokens_bound
from edge_http.openai.jsonio import parse_object
from edge_http.openai.sse import StreamTally, error_frame, frames, relay_frame, usage_frame_with
from edge_http.providers.base import UpstreamResponse
from edge_http.providers.catalog.load import CatalogModel
from ringside.core.v1 import metering_pb2
from ringside_server.errors import RingsideError
from ringside_server.usd import nano_to_usd

MAX_UPSTREAM_BODY = 64 * 1024 * 1024
MAX_MESSAGES = 100_000
MAX_CHOICES = 128
CLIENT_GONE = (ConnectionResetError, ConnectionError)


def _positive_int(body: dict[str, Any], name: str, ceiling: int) -> int:
    value = body.get(name)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= ceiling:
        raise RingsideError("invalid_request", f"{name} must be an integer between 1 and {ceiling}.", name)
    return value


def _validate(body: dict[str, Any]) -> tuple[int, int]:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise RingsideError("invalid_request", "messages must be a non-empty array.", "messages")
    if len(messages) > MAX_MESSAGES:
        raise RingsideError("invalid_request", f"messages may hold at most {MAX_MESSAGES} items.", "messages")
    if not all(isinstance(message, dict) for message in messages):
        raise RingsideError("invalid_request", "every item of messages must be an object.", "messages")
    if "stream" in body and not isinstance(body["stream"], bool | None):
        raise RingsideError("invalid_request", "stream must be a boolean.", "stream")
    options = body.get("stream_options")
    if options is not None and (not isinstance(options, dict) or not body.get("stream")):
        raise RingsideError(
            "invalid_request",
            "stream_options must be an object, and is only allowed with stream: true.",
            "stream_options",
        )
    requested = _positive_int(body, "max_completion_tokens", 10**9) or _positive_int(body, "max_tokens", 10**9)
    choices = _positive_int(body, "n", MAX_CHOICES) or 1
    return requested, choices


async def chat_completions(request: web.Request) -> web.StreamResponse:
    edge = request.app[EDGE]
    api_key = bearer(request)
    token = token_of(request)  # a browser's call: verified by the client_tokens middleware
    try:
        body = parse_object(await request.read())
        requested, choices = _validate(body)
        # The peer proxy's routes (no /v1) take a bare model name as the name of a slot.
        models = await edge.resolve_model(body.get("model"), api_key, peer=not request.path.startswith("/v1/"))
        live = api_key.startswith("sk_live_") or (token is not None and token[1].livemode)
        if live:
            models = _configured(edge, models)  # 503 before holding anything
    except RingsideError as error:
        if token is None:
            await verify_then_raise(edge, api_key, error)
        raise
    # Only a slot's list is retried and fallen back along; a single ref is called once.
    tries = fallbacks.TRIES_PER_MODEL if len(models) > 1 else 1
    attempts = [(model, number) for model in models for number in range(tries)][: fallbacks.MAX_ATTEMPTS]
    skip: CatalogModel | None = None
    failure: fallbacks.Failure | None = None
    for index, (model, try_number) in enumerate(attempts):
        last = index == len(attempts) - 1
        if model is skip or (live and not last and not edge.breakers.available(model.provider)):
            continue
        call = await _admitted(edge, request, body, model, requested, choices)
        if isinstance(call, web.Response):
            return call  # refused (budget, wallet, rate limits): no further attempt would be allowed
        try:
            if not last:
                failure = await call.try_open()
                if failure is not None:  # settled as failed: nothing was sent to the client yet
                    wait = fallbacks.wait_before_retry_s(try_number, failure)
                    if wait is None:
                        skip = model
                    else:
                        await asyncio.sleep(wait)
                    continue
            return await (call.stream() if body.get("stream") else call.complete())
        finally:
            if not call.settled:  # an unexpected error, or cancelled at shutdown: never leave it open
                await asyncio.shield(call.settle_unfinished())
    # The last model was given up on early (a timeout, or a long retry-after): its failure is the answer.
    code = failure.code if failure is not None else "model_unavailable"
    raise RingsideError(code, "No model of this slot answered; the last one failed with " + code + ".")


def _configured(edge: Edge, models: list[CatalogModel]) -> list[CatalogModel]:
    """The models whose provider is configured; the first one's 503 when none is."""
    available = [model for model in models if model.provider in edge.providers or model.provider == TEST_PROVIDER]
    if not available:
        edge.provider_for(models[0], livemode=True)
    return available


async def _admitted(
    edge: Edge,
    request: web.Request,
    body: dict[str, Any],
    model: CatalogModel,
    requested: int,
    choices: int,
) -> _Call | web.Response:
    """One attempt, authorized on its own: the core holds this model's upper bound for it."""
    input_bound = input_tokens_bound(body, model.max_image_tokens)
    decision = await admit(
        edge, authorize_request(edge, request, body, model, input_bound, requested, choices, token_of(request))
    )
    if isinstance(decision, metering_pb2.Denial):
        return reject(request, decision)
    return _Call(edge, request, model, body, decision, input_bound, requested)


class _Call:
    """One admitted call: its hold is durable; every path out of here settles it."""

    def __init__(
        self,
        edge: Edge,
        request: web.Request,
        model: CatalogModel,
        body: dict[str, Any],
        decision: Admitted,
        input_bound: int,
        requested: int,
    ) -> None:
        self.edge = edge
        self.request = request
        self.model = model
        self.decision = decision
        self.input_bound = input_bound
        self.client_wants_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        self.upstream_body = self._rewrite(body, requested)
        self.headers = {"x-request-id": decision.request_id, "X-Ringside-Model-Resolved": model.ref}
        if decision.rate is not None:
            self.headers.update(decision.rate.headers())
        self.settled = False
        self.tally = StreamTally()
        self.upstream: UpstreamResponse | None = None

    def _rewrite(self, body: dict[str, Any], requested: int) -> dict[str, Any]:
        """The request as the provider gets it: its own model name, always usage, the output bound."""
        upstream = dict(body)
        upstream["model"] = self.model.name
        bound = self.decision.max_output_tokens
        if bound and (self.decision.output_limited or requested or bound < self.model.max_output_tokens):
            # OpenAI's reasoning models refuse max_tokens: use it only when the client did.
            upstream["max_tokens" if "max_tokens" in body else "max_completion_tokens"] = bound
        if body.get("stream"):
            options = body.get("stream_options")
            upstream["stream_options"] = {**(options if isinstance(options, dict) else {}), "include_usage": True}
        return upstream

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
        provider = self.edge.provider_for(self.model, self.decision.livemode)
        breakers = self.edge.breakers
        try:
            self.upstream = await provider.chat_completions(self.upstream_body)
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

    async def _settle(self, outcome: int, usage: Any, estimated: bool, upstream_model: str) -> Any:
        if self.settled:
            return None
        self.settled = True
        return await finish(self.edge, self.decision, self.model, outcome, usage, estimated, upstream_model)

    async def settle_unfinished(self) -> None:
        """Whatever stopped this call, it is settled for what it generated (or as failed)."""
        if self.upstream is not None:
            self.upstream.close()
        await self._settle_partial(self.tally, ABORTED if self.tally.content_chunks else FAILED)

    async def _upstream_failed(self, upstream: UpstreamResponse) -> web.Response:
        """A provider error before the first byte: 4xx pass through (OpenAI's own envelope), 5xx → 502."""
        try:
            payload = await upstream.read(MAX_UPSTREAM_BODY)
        finally:
            await self._settle(FAILED, usage_from_body(None), False, "")
        return provider_error_response(upstream.status, payload, self.decision.request_id, self.headers)

    async def complete(self) -> web.Response:
        upstream = await self._open()
        if upstream.status >= 400:
            return await self._upstream_failed(upstream)
        try:
            payload = await upstream.read(MAX_UPSTREAM_BODY)
        except RingsideError:
            await self._settle(FAILED, usage_from_body(None), False, "")
            raise
        try:
            parsed = orjson.loads(payload)
        except orjson.JSONDecodeError:
            parsed = None
        upstream_model = str(parsed.get("model", "")) if isinstance(parsed, dict) else ""
        settled = await self._settle(COMPLETED, usage_from_body(parsed), False, upstream_model)
        headers = dict(self.headers)
        if settled is not None and settled.HasField("wallet_balance_nano_usd"):
            headers["X-Ringside-Wallet-Balance"] = _usd(settled.wallet_balance_nano_usd)
            headers["X-Ringside-Wallet-Deducted"] = _usd(settled.posted_nano_usd)
        return web.Response(status=200, body=payload, content_type="application/json", headers=headers)

    async def stream(self) -> web.StreamResponse:
        upstream = await self._open()
        if upstream.status >= 400:
            return await self._upstream_failed(upstream)
        headers = {**self.headers, "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache"}
        if self.decision.wallet_balance_before is not None:  # streams tell the balance before the call
            headers["X-Ringside-Wallet-Balance"] = _usd(self.decision.wallet_balance_before)
        response = web.StreamResponse(status=200, headers=headers)
        tally = self.tally
        try:
            await response.prepare(self.request)
            await self._relay(upstream, response, tally)
        except CLIENT_GONE:
            upstream.close()  # cancels the upstream call
            await self._settle_partial(tally, ABORTED)
            return response
        except RingsideError as error:
            upstream.close()
            await self._settle_partial(tally, ABORTED if tally.content_chunks else FAILED)
            await self._write_quietly(
                response,
                error_frame(
                    {
                        "type": "api_error",
                        "code": error.code,
                        "message": error.message,
                        "param": None,
                        "request_id": self.decision.request_id,
                    }
                ),
            )
            return response
        if not tally.done_frame:  # the upstream ended without [DONE]
            await self._settle_partial(tally, ABORTED if tally.content_chunks else FAILED)
            await self._write_quietly(
                response,
                error_frame(
                    {
                        "type": "api_error",
                        "code": "upstream_error",
                        "message": "The provider's stream ended early.",
                        "param": None,
                        "request_id": self.decision.request_id,
                    }
                ),
            )
            return response
        settled = None
        if tally.usage is not None:
            settled = await self._settle(COMPLETED, usage_from_body({"usage": tally.usage}), False, tally.model)
        else:
            await self._settle_partial(tally, COMPLETED)
        if tally.usage_chunk is not None:  # a wallet call's usage chunk, now with what it cost
            ringside: dict[str, Any] = {}
            if settled is not None:
                ringside = {"billable_amount_usd": nano_to_usd(settled.posted_nano_usd)}
                if settled.HasField("wallet_balance_nano_usd"):
                    ringside["wallet_balance_usd"] = nano_to_usd(settled.wallet_balance_nano_usd)
            await self._write_quietly(response, usage_frame_with(tally.usage_chunk, ringside), end=False)
        await self._write_quietly(response, tally.done_frame)
        return response

    async def _relay(self, upstream: UpstreamResponse, response: web.StreamResponse, tally: StreamTally) -> None:
        extend_every_s = max(1.0, (self.decision.hold_expires_at - time.time()) / 3)
        next_extension = time.monotonic() + extend_every_s
        async for frame in frames(upstream.lines()):
            out = relay_frame(frame, tally, self.client_wants_usage, self.decision.wallet_balance_before is not None)
            if tally.done_frame:
                return
            if out:
                await response.write(out)
            if time.monotonic() >= next_extension:  # a long stream keeps its hold alive
                next_extension = time.monotonic() + extend_every_s
                await self._extend()

    async def _extend(self) -> None:
        # Failure is safe: an expired hold is posted at its reserved amount, never voided.
        await extend(self.edge, self.decision)

    async def _settle_partial(self, tally: StreamTally, outcome: int) -> None:
        if tally.usage is not None:
            await self._settle(outcome, usage_from_body({"usage": tally.usage}), False, tally.model)
            return
        bound = self.decision.max_output_tokens * max(1, int(self.upstream_body.get("n") or 1))
        await self._settle(outcome, counted_usage(tally, self.input_bound, bound), True, tally.model)

    @staticmethod
    async def _write_quietly(response: web.StreamResponse, data: bytes, end: bool = True) -> None:
        try:
            await response.write(data)
            if end:
                await response.write_eof()
        except CLIENT_GONE:
            pass


def _usd(nano: int) -> str:
    sign = "-" if nano < 0 else ""
    whole, fraction = divmod(abs(nano), 1_000_000_000)
    return f"{sign}{whole}.{fraction:09d}".rstrip("0").rstrip(".")
