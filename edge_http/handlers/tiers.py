"""/v1/tiers: named limits customers share (budget_usd, rate_limit_rpm, rate_limit_tpm, markup_pct)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from aiohttp import web

from edge_http.context import EDGE
from edge_http.handlers.common import (
    authorization,
    budget_nano,
    count,
    list_body,
    markup_bp,
    model_list,
    page_request,
    rendered_models,
)
from edge_http.openai.jsonio import dumps, parse_object
from ringside.core.v1 import tiers_pb2
from ringside_server.errors import RingsideError
from ringside_server.usd import nano_to_usd

MAX_ID = 200


def render(tier: tiers_pb2.Tier) -> dict[str, Any]:
    return {
        "id": tier.id,
        "object": "tier",
        "livemode": tier.livemode,
        "name": tier.name,
        "budget_usd": nano_to_usd(tier.budget_nano_usd) if tier.HasField("budget_nano_usd") else None,
        "rate_limit_rpm": tier.rate_limit_rpm if tier.HasField("rate_limit_rpm") else None,
        "rate_limit_tpm": tier.rate_limit_tpm if tier.HasField("rate_limit_tpm") else None,
        "markup_pct": Decimal(tier.markup_bp).scaleb(-2) if tier.HasField("markup_bp") else None,
        "allowed_models": rendered_models(tier),
        "created": tier.created,
    }


def tier_fields(body: dict[str, Any]) -> tiers_pb2.TierFields:
    """The JSON fields present → TierFields (with `fields` naming them, for updates)."""
    message = tiers_pb2.TierFields()
    if "name" in body:
        if not isinstance(body["name"], str):
            raise RingsideError("invalid_request", "name must be a string.", "name")
        message.name = body["name"]
        message.fields.append("name")
    budget_field = "budget_usd" if "budget_usd" in body else "max_budget"  # the peer's name for it
    if budget_field in body:
        if body[budget_field] is not None:
            message.budget_nano_usd = budget_nano(body[budget_field], budget_field)
        message.fields.append("budget_nano")
    for name, aliases in (("rate_limit_rpm", ("rpm_limit",)), ("rate_limit_tpm", ("tpm_limit",))):
        source = next((n for n in (name, *aliases) if n in body), None)
        if source is not None:
            value = count(body, source)
            if value is not None:
                setattr(message, name, value)
            message.fields.append(name)
    if "markup_pct" in body:
        if body["markup_pct"] is not None:
            message.markup_bp = markup_bp(body["markup_pct"])
        message.fields.append("markup_bp")
    if "allowed_models" in body:
        models = model_list(body)
        if models is not None:
            message.allowed_models.CopyFrom(models)
        message.fields.append("allowed_models")
    return message


async def create_tier(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    header = authorization(request)
    fields = tier_fields(parse_object(await request.read()))
    result = await edge.core.as_caller(edge.core.tiers.CreateTier, tiers_pb2.CreateTierRequest(tier=fields), header)
    edge.forget_policies()
    return web.Response(status=201, body=dumps(render(result.tier)), content_type="application/json")


async def get_tier(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    result = await edge.core.as_caller(
        edge.core.tiers.GetTier, tiers_pb2.GetTierRequest(id=request.match_info["id"][:MAX_ID]), authorization(request)
    )
    return web.Response(body=dumps(render(result.tier)), content_type="application/json")


async def list_tiers(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    result = await edge.core.as_caller(
        edge.core.tiers.ListTiers, tiers_pb2.ListTiersRequest(page=page_request(request)), authorization(request)
    )
    return web.Response(
        body=list_body(request, [render(t) for t in result.tiers], result.has_more), content_type="application/json"
    )


async def update_tier(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    header = authorization(request)
    fields = tier_fields(parse_object(await request.read()))
    result = await edge.core.as_caller(
        edge.core.tiers.UpdateTier,
        tiers_pb2.UpdateTierRequest(id=request.match_info["id"][:MAX_ID], tier=fields),
        header,
    )
    edge.forget_policies()
    return web.Response(body=dumps(render(result.tier)), content_type="application/json")


async def delete_tier(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    result = await edge.core.as_caller(
        edge.core.tiers.DeleteTier,
        tiers_pb2.DeleteTierRequest(id=request.match_info["id"][:MAX_ID]),
        authorization(request),
    )
    return web.Response(
        body=dumps({"id": result.id, "object": "tier", "deleted": True}), content_type="application/json"
    )
