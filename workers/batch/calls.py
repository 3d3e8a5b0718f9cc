"""One line of a batch as a metered call: the route's own parse (the same rules and estimate as the
HTTP route) → MeteredCall (admitted as a call of the batch's key, attributed to its owner) → the
answer, or the refusal, as the line's result. A line refused by a rate limit waits for its window
and runs then (API.md "Batch money"); budget, wallet, block and allowed_models refusals are results."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from edge_http.openai.types import chat, embeddings
from ringside.core.v1 import metering_pb2
from ringside_server.batches.results import LineResult, refused
from ringside_server.errors import RingsideError
from ringside_server.metering.call import MeteredCall
from ringside_server.metering.gateway import Gateway
from ringside_server.metering.request import Caller, MeteredRequest

# The endpoint's parse, as the edge runs it for that route (the body as bytes, not the peer's route)
PARSERS: dict[str, Callable[[bytes, bool], MeteredRequest]] = {
    "/v1/chat/completions": chat.metered_request,
    "/v1/embeddings": embeddings.metered_request,
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


def _denied(denial: metering_pb2.Denial) -> LineResult:
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
                return _denied(answer)
            wait_s = (answer.retry_after_ms / 1000) or float(answer.retry_after_seconds) or 1.0
            await asyncio.sleep(min(MAX_WAIT_S, max(MIN_WAIT_S, wait_s)))
            if stopping():
                return None
            continue
        headers = answer.headers
        return LineResult(
            answer.status, headers.get("x-request-id", ""), answer.body, headers.get("X-Ringside-Model-Resolved", "")
        )
