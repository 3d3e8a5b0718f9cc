"""The peer proxy's customer and budget routes (seed 004), over the same objects: an end user is a
customer whose external_id is its `user_id`; a budget is a tier named by its `budget_id`."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from edge_http.context import EDGE
from edge_http.handlers.common import authorization, budget_nano
from edge_http.handlers.tiers import tier_fields
from edge_http.openai.jsonio import dumps, parse_object
from ringside.core.v1 import customers_pb2, tiers_pb2
from ringside_server.errors import RingsideError
from ringside_server.ids import random_token
from ringside_server.usd import nano_to_usd

MONTHLY = ("30d", "1mo", "1month", "monthly", "month")
MAX_USER_IDS = 100


def _user_id(body: dict[str, Any], name: str = "user_id") -> str:
    value = body.get(name)
    if not isinstance(value, str) or not 1 <= len(value) <= 255:
        raise RingsideError("invalid_request", f"{name} must be a string of 1..255 characters.", name)
    return value


def _user_ids(body: dict[str, Any]) -> list[str]:
    ids = body.get("user_ids")
    if not isinstance(ids, list) or not 1 <= len(ids) <= MAX_USER_IDS or not all(isinstance(i, str) for i in ids):
        raise RingsideError("invalid_request", f"user_ids must be a list of 1..{MAX_USER_IDS} ids.", "user_ids")
    return ids


def _budget_table(tier: tiers_pb2.Tier | None) -> dict[str, Any] | None:
    if tier is None:
        return None
    return {
        "budget_id": tier.name,
        "max_budget": nano_to_usd(tier.budget_nano_usd) if tier.HasField("budget_nano_usd") else None,
        "rpm_limit": tier.rate_limit_rpm if tier.HasField("rate_limit_rpm") else None,
        "tpm_limit": tier.rate_limit_tpm if tier.HasField("rate_limit_tpm") else None,
        "budget_duration": "1mo",
    }


async def _render(request: web.Request, customer: customers_pb2.Customer) -> dict[str, Any]:
    edge = request.app[EDGE]
    tier = None
    if customer.tier_id:
        tier = (
            await edge.core.as_caller(
                edge.core.tiers.GetTier, tiers_pb2.GetTierRequest(id=customer.tier_id), authorization(request)
            )
        ).tier
    return {
        "user_id": customer.external_id,
        "blocked": customer.blocked,
        "alias": customer.name or None,
        "spend": nano_to_usd(customer.spend_nano_usd_mtd),  # this billing period's spend
        "max_budget": nano_to_usd(customer.budget_nano_usd) if customer.HasField("budget_nano_usd") else None,
        "allowed_model_region": None,
        "default_model": None,
        "budget_id": tier.name if tier is not None else None,
        "litellm_budget_table": _budget_table(tier),
        "id": customer.id,
    }


def _changes(body: dict[str, Any], message: Any) -> None:
    if "max_budget" in body:
        if body["max_budget"] is None:
            message.budget_unlimited = True
        else:
            message.budget_nano_usd = budget_nano(body["max_budget"], "max_budget")
    if "blocked" in body:
        if not isinstance(body["blocked"], bool):
            raise RingsideError("invalid_request", "blocked must be a boolean.", "blocked")
        message.blocked = body["blocked"]
    if isinstance(body.get("alias"), str):
        message.name = body["alias"]
    if "budget_id" in body and body["budget_id"] is not None:
        if not isinstance(body["budget_id"], str):
            raise RingsideError("invalid_request", "budget_id must be a string.", "budget_id")
        message.tier = body["budget_id"]


async def customer_new(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    body = parse_object(await request.read())
    message = customers_pb2.CreateCustomerRequest(external_id=_user_id(body))
    _changes(body, message)
    result = await edge.core.as_caller(edge.core.customers.CreateCustomer, message, authorization(request))
    return web.Response(body=dumps(await _render(request, result.customer)), content_type="application/json")


async def customer_info(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    await edge.answered_calls_recorded()
    user_id = _user_id(dict(request.query), "end_user_id")
    result = await edge.core.as_caller(
        edge.core.customers.GetCustomer, customers_pb2.GetCustomerRequest(id="ext:" + user_id), authorization(request)
    )
    return web.Response(body=dumps(await _render(request, result.customer)), content_type="application/json")


async def customer_update(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    body = parse_object(await request.read())
    message = customers_pb2.UpdateCustomerRequest(id="ext:" + _user_id(body))
    _changes(body, message)
    result = await edge.core.as_caller(edge.core.customers.UpdateCustomer, message, authorization(request))
    return web.Response(body=dumps(await _render(request, result.customer)), content_type="application/json")


async def customer_delete(request: web.Request) -> web.Response:
    """Every user, or none: one unknown (or undeletable) id changes nothing."""
    edge = request.app[EDGE]
    user_ids = list(dict.fromkeys(_user_ids(parse_object(await request.read()))))
    await edge.core.as_caller(
        edge.core.customers.DeleteCustomers,
        customers_pb2.DeleteCustomersRequest(ids=["ext:" + user_id for user_id in user_ids]),
        authorization(request),
    )
    return web.Response(body=dumps({"deleted_customers": user_ids}), content_type="application/json")


async def _set_blocked(request: web.Request, blocked: bool) -> list[str]:
    edge = request.app[EDGE]
    user_ids = list(dict.fromkeys(_user_ids(parse_object(await request.read()))))
    await edge.core.as_caller(
        edge.core.customers.SetCustomersBlocked,
        customers_pb2.SetCustomersBlockedRequest(ids=["ext:" + user_id for user_id in user_ids], blocked=blocked),
        authorization(request),
    )
    return user_ids


async def customer_block(request: web.Request) -> web.Response:
    """Every user, or none: one unknown id changes nothing."""
    blocked = await _set_blocked(request, True)
    return web.Response(body=dumps({"blocked_users": blocked}), content_type="application/json")


async def customer_unblock(request: web.Request) -> web.Response:
    unblocked = await _set_blocked(request, False)
    return web.Response(body=dumps({"unblocked_users": unblocked}), content_type="application/json")


async def budget_new(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    body = parse_object(await request.read())
    duration = body.get("budget_duration")
    if duration is not None and (not isinstance(duration, str) or duration.strip().lower() not in MONTHLY):
        raise RingsideError(
            "invalid_request",
            "budget_duration must be monthly (30d, 1mo) or absent: budgets reset with each customer's billing period.",
            "budget_duration",
        )
    name = body.get("budget_id") or "budget-" + random_token(12)
    fields = tier_fields({**body, "name": name})
    result = await edge.core.as_caller(
        edge.core.tiers.CreateTier, tiers_pb2.CreateTierRequest(tier=fields), authorization(request)
    )
    return web.Response(body=dumps(_budget_table(result.tier)), content_type="application/json")


async def budget_info(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    header = authorization(request)
    names: Any = (
        [request.query.get("budget_id", "")]
        if request.method == "GET"
        else parse_object(await request.read()).get("budgets")
    )
    if (
        not isinstance(names, list)
        or not 1 <= len(names) <= MAX_USER_IDS
        or not all(isinstance(n, str) and n for n in names)
    ):
        raise RingsideError("invalid_request", "budgets must be a list of budget ids.", "budgets")
    found = [
        (await edge.core.as_caller(edge.core.tiers.GetTier, tiers_pb2.GetTierRequest(id=name), header)).tier
        for name in names
    ]
    return web.Response(body=dumps([_budget_table(tier) for tier in found]), content_type="application/json")
