"""One line of a batch as a metered call: the route's own parse (the same rules and estimate as the
HTTP route) → MeteredCall (admitted as a call of the batch's key, attributed to its owner) → the
answer, or the refusal, as the line's result. A line refused by a rate limit waits for its window
and runs then (API.md "Batch money"); budget, wallet, block and allowed_models refusals are results."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from ringside.core.v1 import metering_pb2
from ringside_server.batches.results import LineResult, refused
from ringside_server.errors import RingsideError
from ringside_server.ids import new_id
from ringside_server.metering.call import MeteredCall
from ringside_server.metering.gateway import Gateway
from ringside_server.metering.request import Caller, MeteredRequest
from ringside_server.openai import file_search, responses
from ringside_server.openai.types import chat, embeddings


def _response_request(raw: bytes, peer: bool) -> MeteredRequest:
    """A Responses line as the edge reads one (ringside_server/openai/responses.py), asked of the model
    as a chat call; a batch's responses start no chain and search no store (they are not stored)."""
    body = orjson.loads(raw)
    responses.check(body)
    if "input" not in body:
        raise responses.refuse("input is required.", "input")
    if body.get("previous_response_id"):
        raise responses.refuse("A batch's responses cannot continue a stored one.", "previous_response_id")
    if file_search.file_search_of(body) is not None:
        raise responses.refuse("file_search is not available in a batch.", "tools")
    chat_body = responses.chat_body(body, [], responses.input_items(body["input"]))
    return chat.metered_request(orjson.dumps(chat_body), peer)


def _as_response(body: dict[str, Any], completion_body: bytes) -> bytes:
    """The chat completion a Responses line was answered with, as OpenAI's Response object."""
    completion = orjson.loads(completion_body)
    response = responses.skeleton(new_id("resp"), int(time.time()), body)
    response["model"] = str(completion.get("model") or response["model"])
    return orjson.dumps(responses.from_completion(response, completion))


# The endpoint's parse, as the edge runs it for that route (the body as bytes, not the peer's route)
PARSERS: dict[str, Callable[[bytes, bool], MeteredRequest]] = {
    "/v1/chat/completions": chat.metered_request,
    "/v1/embeddings": embeddings.metered_request,
    "/v1/responses": _response_request,
}
RATE_LIMITED = frozenset(
    {
        "ip_rate_limit_exceeded",
        "client_token_rate_limit_exceeded",
        "account_rate_limit_exceeded",
        "customer_rate_limit_exceeded",
    }
)
MIN_WAIT_S = 0.05
CORE_AWAY_WAIT_S = 1.0
MAX_WAIT_S = 60.0


def denied(denial: metering_pb2.Denial) -> LineResult:
    error = RingsideError(denial.code, denial.message, denial.param or None, denial.retry_after_seconds or None)
    return refused(error)


async def run_line(
    gateway: Gateway,
    caller: Caller,
    endpoint: str,
    body: dict[str, Any],
    request_id_for_attempt: Callable[[], Awaitable[str]],
    stopping: Callable[[], bool],
) -> LineResult | None:
    """The line's result; None when the batch stopped (cancelled, expired) while the line waited
    for a rate limit's window (it never ran)."""
    raw = orjson.dumps(body)
    while True:
        try:
            call = await MeteredCall.prepare(gateway, caller, PARSERS[endpoint](raw, False))
            call.request_id_for_attempt = request_id_for_attempt
            answer = await call.run()
        except RingsideError as error:
            if error.code == "service_unavailable":  # the core is away: the line waits for it
                await asyncio.sleep(CORE_AWAY_WAIT_S)
                if stopping():
                    return None
                continue
            return refused(error)  # refused before anything was held (a bad body, a ref, a model not allowed)
        if isinstance(answer, metering_pb2.Denial):
            if answer.code not in RATE_LIMITED:
                return denied(answer)
            wait_s = (answer.retry_after_ms / 1000) or float(answer.retry_after_seconds) or 1.0
            await asyncio.sleep(min(MAX_WAIT_S, max(MIN_WAIT_S, wait_s)))
            if stopping():
                return None
            continue
        headers = answer.headers
        answered = answer.body
        if endpoint == "/v1/responses" and answer.status == 200:
            answered = _as_response(body, answered)
        return LineResult(
            answer.status, headers.get("x-request-id", ""), answered, headers.get("X-Ringside-Model-Resolved", "")
        )
