"""Every request counts against the rate limits (API.md "Rate limits", DECISIONS 15).

A model call is counted by the core when it admits it (its IP's, Client Token's, account's and
customer's layers, in the same decision as its hold: no extra round trip). Every other request —
an admin route, a file, a webhook, a request with a bad key or none, a preflight — is counted here
by one CountRequest before its handler runs: its IP's layer, and when its credential is good its
Client Token's and its account's. The core keeps the windows, so the count is exact over any number
of edges. A model-route request the core did not admit (refused for its key, body, budget…) is
counted after its answer, and answered 429 instead when its layers have no room left.

Every response then carries `X-RateLimit-Remaining` for the tightest layer that counted it.
Probes and /metrics are not counted: an orchestrator's checks must never be refused.
"""

from __future__ import annotations

import logging

from aiohttp import web

from edge_http.bodies import MODEL_JSON_PATHS, MULTIPART_BOUNDS
from edge_http.client_tokens import let_page_read_refusal
from edge_http.context import EDGE
from edge_http.handlers.common import client_ip, reject
from edge_http.middlewares import REQUEST_ID, Handler
from ringside.core.v1 import metering_pb2
from ringside_server.errors import RingsideError
from ringside_server.settings import Settings

log = logging.getLogger("ringside.edge.rate_limits")

# POST routes whose request is a model call, counted by its admission (count_tokens makes none:
# counted here, its customer's RPM included, as API.md "Rate limits" says).
COUNT_TOKENS = "/v1/messages/count_tokens"
MODEL_CALL_PATHS = (MODEL_JSON_PATHS | frozenset(MULTIPART_BOUNDS)) - {COUNT_TOKENS}
NOT_COUNTED = frozenset({"/healthz", "/livez", "/readyz", "/metrics"})
ADMITTED = "rate_limits.admitted"  # request key: the core admitted (and counted) this model call
COUNTING = web.AppKey("rate_limits.counting", bool)  # any layer on (settings)
REMAINING = "rate_limits.remaining"  # request key: X-RateLimit-Remaining for this request's answer


def admitted(request: web.Request) -> None:
    """A metered handler's call was admitted: the core counted it in every layer."""
    request[ADMITTED] = True


def counting(settings: Settings) -> bool:
    """Whether any layer a request counts against is on (each 0 turns its layer off)."""
    return any(
        (settings.rate_limit_ip_per_min, settings.rate_limit_client_token_per_min, settings.rate_limit_account_per_min)
    )


@web.middleware
async def rate_limits(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path in NOT_COUNTED or not request.app[COUNTING]:
        return await handler(request)
    if request.method != "POST" or request.path not in MODEL_CALL_PATHS:
        refused = await _count(request)
        if refused is not None:
            return refused
        return await handler(request)
    try:
        response = await handler(request)
    except RingsideError as error:
        if error.status == 429:
            raise
        refused = await _count(request)
        if refused is not None:
            return refused
        raise
    if request.get(ADMITTED) or response.status == 429 or response.prepared:
        return response
    refused = await _count(request)
    return refused if refused is not None else response


async def _count(request: web.Request) -> web.Response | None:
    """Count this request in the core; its 429 when a layer has no room (nothing counted then)."""
    edge = request.app[EDGE]
    authorization = request.headers.get("Authorization", "")
    if not authorization and request.headers.get("x-api-key"):  # what Anthropic's SDK sends
        authorization = "Bearer " + request.headers["x-api-key"]
    asked = metering_pb2.CountRequestRequest(
        authorization=authorization[:10_000],
        client_ip=client_ip(request, edge.trusted_proxies),
        customer_ref=request.headers.get("FC-Customer", "")[:300],
        customer_rpm=request.path == COUNT_TOKENS,
        # Counted once under this request's id: a count cut off by its core's death is resent.
        request_id=request.get(REQUEST_ID, ""),
    )
    try:
        answer = await edge.core.internal(edge.core.metering.CountRequest, asked)
    except RingsideError as error:
        # The core unreachable: what needs it fails on its own; what does not (the dashboard's
        # files, the documents) is served uncounted rather than refused.
        log.debug("request not counted (%s)", error.code)
        return None
    if answer.HasField("denial") and answer.denial.code:
        let_page_read_refusal(request)
        return reject(request, answer.denial)
    if answer.rate_limits.requests_limit:
        request[REMAINING] = answer.rate_limits.requests_remaining
    return None


async def add_remaining_header(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: `X-RateLimit-Remaining` on every answer that was counted here (a
    model call's comes with its other x-ratelimit-* headers)."""
    remaining = request.get(REMAINING)
    if remaining is not None and "X-RateLimit-Remaining" not in response.headers:
        response.headers["X-RateLimit-Remaining"] = str(remaining)
