"""GET /v1/requests[/:id]: one row per model call that passed authentication and validation —
served, failed upstream, or refused (402, 403, any 429 layer) — newest first, with its usage and
how it was settled (API.md "Usage"). No prompt or completion text."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from edge_http.context import EDGE
from edge_http.handlers.common import authorization, list_body, page_request, parse_time
from edge_http.openai.jsonio import dumps
from ringside.core.v1 import requests_pb2
from ringside_server.errors import RingsideError
from ringside_server.usd import nano_to_usd

MAX_REF = 300


def render(row: requests_pb2.RequestRow) -> dict[str, Any]:
    return {
        "id": row.request_id,
        "object": "request",
        "customer_id": row.customer_id or None,
        "route": row.route or None,
        "model": row.model or None,
        "resolved_model": row.resolved_model or None,
        "status": row.status or None,
        "error_code": row.error_code or None,
        "input_tokens": row.usage.input_tokens,
        "output_tokens": row.usage.output_tokens,
        "cost_usd": nano_to_usd(row.cost_nano_usd),
        "billable_usd": nano_to_usd(row.billable_nano_usd),
        "latency_ms": row.latency_ms if row.latency_ms >= 0 else None,
        "settled_by": row.settled_by or None,
        "created": row.created,
    }


def _status(raw: str) -> int:
    if not raw:
        return 0
    if not (raw.isascii() and raw.isdigit()) or not 100 <= int(raw[:4]) <= 599:
        raise RingsideError("invalid_request", "status must be an HTTP status (100..599).", "status")
    return int(raw)


async def _recorded(request: web.Request) -> None:
    """Read-your-writes: this edge's pending entries, and the lease reports of the calls it has
    answered (their usage, `settled_by`), go to the core before the read."""
    edge = request.app[EDGE]
    await edge.answered_calls_recorded()
    if edge.request_log is not None:
        await edge.request_log.flush()


async def list_requests(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    query = request.query
    message = requests_pb2.ListRequestsRequest(
        page=page_request(request),
        customer_ref=query.get("customer_id", "")[:MAX_REF],
        model=query.get("model", "")[:MAX_REF],
        status=_status(query.get("status", "")),
        since=parse_time(query["since"], "since") if "since" in query else 0,
        until=parse_time(query["until"], "until", end_of_day=True) if "until" in query else 0,
    )
    header = authorization(request)
    await _recorded(request)
    result = await edge.core.as_caller(edge.core.requests.ListRequests, message, header)
    return web.Response(
        body=list_body(request, [render(row) for row in result.requests], result.has_more),
        content_type="application/json",
    )


async def get_request(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    header = authorization(request)
    await _recorded(request)
    result = await edge.core.as_caller(
        edge.core.requests.GetRequest,
        requests_pb2.GetRequestRequest(request_id=request.match_info["id"][:64]),
        header,
    )
    return web.Response(body=dumps(render(result.request)), content_type="application/json")
