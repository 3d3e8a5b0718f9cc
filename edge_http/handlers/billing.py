"""Closed billing periods (`/v1/customers/:id/periods`) and the Stripe usage sync's settings and runs
(`/v1/billing/stripe`, `/v1/billing/stripe/syncs`)."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from edge_http.context import EDGE
from edge_http.handlers.common import authorization, list_body, page_request
from edge_http.openai.jsonio import dumps, parse_object
from ringside.core.v1 import billing_pb2
from ringside_server.errors import RingsideError
from ringside_server.usd import nano_to_usd

MAX_ID = 300
MAX_FIELD = 300


def render_period(p: billing_pb2.Period) -> dict[str, Any]:
    return {
        "id": p.id,
        "object": "billing_period",
        "customer_id": p.customer_id,
        "livemode": p.livemode,
        "period_start": p.period_start,
        "period_end": p.period_end,
        "total_cost_usd": nano_to_usd(p.cost_nano_usd),
        "total_billable_usd": nano_to_usd(p.billable_nano_usd),
        "total_margin_usd": nano_to_usd(p.billable_nano_usd - p.cost_nano_usd),
        "request_count": p.request_count,
        "input_tokens": p.input_tokens,
        "output_tokens": p.output_tokens,
        "closed_at": p.closed_at,
    }


def render_settings(s: billing_pb2.StripeSettings) -> dict[str, Any]:
    return {
        "object": "stripe_settings",
        "livemode": s.livemode,
        "secret_key": s.secret_key,
        "meter_event_name": s.meter_event_name,
        "value": s.value,
        "updated": s.updated,
    }


def render_sync(s: billing_pb2.StripeSync) -> dict[str, Any]:
    return {
        "id": s.id,
        "object": "stripe_sync",
        "livemode": s.livemode,
        "run_id": s.run_id,
        "status": s.status,
        "pushed": s.events_pushed,
        "units_pushed": s.units_pushed,
        "duplicates": s.duplicates,
        "failed": s.failed,
        "errors": orjson.loads(s.errors_json or "[]"),
        "started": s.started,
        "finished": s.finished or None,
    }


async def list_periods(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    result = await edge.core.as_caller(
        edge.core.billing.ListPeriods,
        billing_pb2.ListPeriodsRequest(customer_id=request.match_info["id"][:MAX_ID], page=page_request(request)),
        authorization(request),
    )
    data = [render_period(p) for p in result.periods]
    return web.Response(body=list_body(request, data, result.has_more), content_type="application/json")


def _text(body: dict[str, Any], name: str, default: str = "") -> str:
    value = body.get(name, default)
    if not isinstance(value, str) or len(value) > MAX_FIELD:
        raise RingsideError("invalid_request", f"{name} must be a string of at most {MAX_FIELD} characters.", name)
    return value


async def put_stripe_settings(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    header = authorization(request)
    body = parse_object(await request.read())
    settings = billing_pb2.StripeSettings(
        secret_key=_text(body, "secret_key"),
        meter_event_name=_text(body, "meter_event_name"),
        value=_text(body, "value", "billable_cents"),
    )
    result = await edge.core.as_caller(
        edge.core.billing.PutStripeSettings, billing_pb2.PutStripeSettingsRequest(settings=settings), header
    )
    return web.Response(body=dumps(render_settings(result.settings)), content_type="application/json")


async def get_stripe_settings(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    result = await edge.core.as_caller(
        edge.core.billing.GetStripeSettings, billing_pb2.GetStripeSettingsRequest(), authorization(request)
    )
    return web.Response(body=dumps(render_settings(result.settings)), content_type="application/json")


async def list_syncs(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    result = await edge.core.as_caller(
        edge.core.billing.ListStripeSyncs,
        billing_pb2.ListStripeSyncsRequest(page=page_request(request)),
        authorization(request),
    )
    body = {
        "object": "list",
        "data": [render_sync(s) for s in result.syncs],
        "has_more": result.has_more,
        "url": request.path,
        "lag_seconds": result.lag_seconds if result.lag_seconds >= 0 else None,
        "failing_customers": result.failing_customers,
    }
    return web.Response(body=dumps(body), content_type="application/json")
