"""GET /v1/usage: cost, billed amount, margin, requests and tokens, optionally grouped."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from edge_http.context import EDGE
from edge_http.handlers.common import authorization, page_request, parse_time
from edge_http.openai.jsonio import dumps
from ringside.core.v1 import usage_pb2
from ringside_server.errors import RingsideError
from ringside_server.usd import nano_to_usd

KEY_NAMES = {"day": "date", "model": "model", "customer": "customer_id"}


def _fields(totals: usage_pb2.UsageTotals) -> dict[str, Any]:
    return {
        "total_cost_usd": nano_to_usd(totals.cost_nano_usd),
        "total_billable_usd": nano_to_usd(totals.billable_nano_usd),
        "total_margin_usd": nano_to_usd(totals.billable_nano_usd - totals.cost_nano_usd),
        "request_count": totals.request_count,
        "input_tokens": totals.input_tokens,
        "output_tokens": totals.output_tokens,
    }


async def get_usage(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    await edge.answered_calls_recorded()
    header = authorization(request)
    query = request.query
    group_by = query.get("group_by", "")
    if group_by and group_by not in KEY_NAMES:
        raise RingsideError("invalid_request", "group_by must be one of day, model, customer.", "group_by")
    page = page_request(request)
    report = await edge.core.as_caller(
        edge.core.usage.GetUsage,
        usage_pb2.GetUsageRequest(
            customer_ref=query.get("customer_id", "")[:300],
            since=parse_time(query["since"], "since") if query.get("since") else 0,
            until=parse_time(query["until"], "until", end_of_day=True) if query.get("until") else 0,
            group_by=group_by,
            limit=page.limit,
            starting_after=page.starting_after,
            order_by=query.get("order_by", "")[:20],
            order=query.get("order", "")[:10],
        ),
        header,
    )
    body: dict[str, Any] = {"object": "usage", **_fields(report.totals), "since": report.since, "until": report.until}
    if group_by:
        name = KEY_NAMES[group_by]
        body["data"] = [{name: group.key or None, **_fields(group.totals)} for group in report.groups]
        body["has_more"] = report.has_more
    else:
        body["data"] = []
        body["has_more"] = False
    body["url"] = request.path
    return web.Response(body=dumps(body), content_type="application/json")
