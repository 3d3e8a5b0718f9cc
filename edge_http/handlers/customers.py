"""/v1/customers: create (201 new, 200 existing external_id) and get by `cus_…` or `ext:…`."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from edge_http.context import EDGE
from edge_http.handlers.common import (
    authorization,
    budget_nano,
    count,
    list_body,
    model_list,
    page_request,
    rendered_models,
)
from edge_http.openai.jsonio import dumps, parse_object
from ringside.core.v1 import customers_pb2
from ringside_server.errors import RingsideError
from ringside_server.usd import nano_to_usd, usd_to_nano

MAX_ID = 300
MAX_QUERY = 200  # the search box: ?query= (API.md "Customers")


def render(c: customers_pb2.Customer) -> dict[str, Any]:
    rendered = {
        "id": c.id,
        "object": "customer",
        "livemode": c.livemode,
        "external_id": c.external_id or None,
        "name": c.name or None,
        "email": c.email or None,
        "metadata": orjson.loads(c.metadata_json or "{}"),
        "budget_usd": nano_to_usd(c.budget_nano_usd) if c.HasField("budget_nano_usd") else None,
        "rate_limit_rpm": c.rate_limit_rpm if c.HasField("rate_limit_rpm") else None,
        "rate_limit_tpm": c.rate_limit_tpm if c.HasField("rate_limit_tpm") else None,
        "blocked": c.blocked,
        "tier_id": c.tier_id or None,
        "allowed_models": rendered_models(c),
        "limits_source": dict(c.limits_source),
        "billing_anchor_day": c.billing_anchor_day,
        "stripe_customer_id": c.stripe_customer_id or None,
        "spend_usd_mtd": nano_to_usd(c.spend_nano_usd_mtd),
        "request_count_mtd": c.request_count_mtd,
        "budget_status": c.budget_status,
        "period_start": c.period_start,
        "period_end": c.period_end,
        "wallet": {
            "enabled": c.wallet.enabled,
            "balance_usd": nano_to_usd(c.wallet.balance_nano_usd),
            "low_threshold_usd": nano_to_usd(c.wallet.low_threshold_nano_usd),
        },
        "created": c.created,
    }
    if c.erasure_status:
        rendered["erasure"] = {"status": c.erasure_status}
    return rendered


def _string(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise RingsideError("invalid_request", f"{name} must be a string.", name)
    return value


def _set_budget(body: dict[str, Any], message: Any) -> None:
    """`budget_usd` (or `monthly_budget_usd`): a number, or null for an explicit "no cap"."""
    budget_field = "budget_usd" if "budget_usd" in body else "monthly_budget_usd"
    if budget_field in body:
        if body[budget_field] is None:
            message.budget_unlimited = True
        else:
            message.budget_nano_usd = budget_nano(body[budget_field], budget_field)


def _set_models(body: dict[str, Any], message: Any) -> None:
    """`allowed_models`: a list, or null for an explicit "every model" (unset to inherit again)."""
    if "allowed_models" in body:
        models = model_list(body)
        if models is None:
            message.allowed_models_unlimited = True
        else:
            message.allowed_models.CopyFrom(models)


def _anchor_day(body: dict[str, Any]) -> int:
    anchor = count(body, "billing_anchor_day")
    if anchor is None or not 1 <= anchor <= 28:
        raise RingsideError("invalid_request", "billing_anchor_day must be between 1 and 28.", "billing_anchor_day")
    return anchor


def _wallet(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict) or not isinstance(value.get("enabled", False), bool):
        raise RingsideError("invalid_request", 'wallet must be an object like {"enabled": true}.', "wallet")
    return value


def _low_threshold_nano(wallet: dict[str, Any]) -> int:
    """`wallet.low_threshold_usd` (bounds are checked by the core)."""
    try:
        return usd_to_nano(wallet["low_threshold_usd"] or 0)
    except ValueError as error:
        raise RingsideError("invalid_request", f"wallet.low_threshold_usd: {error}.", "wallet") from None


def create_request(body: dict[str, Any]) -> customers_pb2.CreateCustomerRequest:
    """The JSON body of POST /v1/customers as the core's request (bounds are checked by the core)."""
    message = customers_pb2.CreateCustomerRequest(name=_string(body, "name") or "", email=_string(body, "email") or "")
    external_id = _string(body, "external_id")
    if external_id is not None:
        message.external_id = external_id
    metadata = body.get("metadata")
    if metadata is not None:
        if not isinstance(metadata, dict):
            raise RingsideError("invalid_request", "metadata must be an object.", "metadata")
        message.metadata_json = orjson.dumps(metadata).decode()
    _set_budget(body, message)
    for name in ("rate_limit_rpm", "rate_limit_tpm"):
        value = count(body, name)
        if value is not None:
            setattr(message, name, value)
    blocked = body.get("blocked", False)
    if not isinstance(blocked, bool):
        raise RingsideError("invalid_request", "blocked must be a boolean.", "blocked")
    message.blocked = blocked
    if body.get("billing_anchor_day") is not None:
        message.billing_anchor_day = _anchor_day(body)
    message.stripe_customer_id = _string(body, "stripe_customer_id") or ""
    if body.get("wallet") is not None:
        wallet = _wallet(body["wallet"])
        message.wallet_enabled = wallet.get("enabled", False)
        if "low_threshold_usd" in wallet:
            message.wallet_low_threshold_nano_usd = _low_threshold_nano(wallet)
    message.tier = _string(body, "tier_id") or ""
    _set_models(body, message)
    return message


async def create_customer(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    header = authorization(request)
    body = parse_object(await request.read())
    result = await edge.core.as_caller(edge.core.customers.CreateCustomer, create_request(body), header)
    edge.forget_policies()
    return web.Response(
        status=201 if result.created else 200, body=dumps(render(result.customer)), content_type="application/json"
    )


async def get_customer(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    await edge.answered_calls_recorded()
    header = authorization(request)
    customer_id = request.match_info["id"][:MAX_ID]
    result = await edge.core.as_caller(
        edge.core.customers.GetCustomer, customers_pb2.GetCustomerRequest(id=customer_id), header
    )
    return web.Response(body=dumps(render(result.customer)), content_type="application/json")


def update_request(customer_id: str, body: dict[str, Any]) -> customers_pb2.UpdateCustomerRequest:
    """The JSON body of PATCH /v1/customers/:id: only the fields present change."""
    message = customers_pb2.UpdateCustomerRequest(id=customer_id)
    for name in ("external_id", "name", "email"):
        if name in body:
            value = _string(body, name)
            if value is not None:
                setattr(message, name, value)
    if "metadata" in body:
        metadata = body["metadata"]
        if metadata is not None and not isinstance(metadata, dict):
            raise RingsideError("invalid_request", "metadata must be an object.", "metadata")
        message.metadata_json = orjson.dumps(metadata or {}).decode()
    _set_budget(body, message)
    for name in ("rate_limit_rpm", "rate_limit_tpm"):
        if name in body:
            rate = count(body, name)
            if rate is None:
                setattr(message, f"{name}_unlimited", True)
            else:
                setattr(message, name, rate)
    if "blocked" in body:
        if not isinstance(body["blocked"], bool):
            raise RingsideError("invalid_request", "blocked must be a boolean.", "blocked")
        message.blocked = body["blocked"]
    if "billing_anchor_day" in body:
        message.billing_anchor_day = _anchor_day(body)
    if "stripe_customer_id" in body:
        message.stripe_customer_id = _string(body, "stripe_customer_id") or ""
    if "wallet" in body:
        wallet = _wallet(body["wallet"])
        if "enabled" in wallet:
            message.wallet_enabled = wallet["enabled"]
        if "low_threshold_usd" in wallet:
            message.wallet_low_threshold_nano_usd = _low_threshold_nano(wallet)
    if "tier_id" in body:
        message.tier = _string(body, "tier_id") or ""
    _set_models(body, message)
    unset = body.get("unset", [])
    if not isinstance(unset, list) or len(unset) > 10 or not all(isinstance(name, str) for name in unset):
        raise RingsideError("invalid_request", "unset must be a list of field names.", "unset")
    message.unset.extend(unset)
    return message


async def update_customer(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    header = authorization(request)
    body = parse_object(await request.read())
    result = await edge.core.as_caller(
        edge.core.customers.UpdateCustomer, update_request(request.match_info["id"][:MAX_ID], body), header
    )
    edge.forget_policies()
    return web.Response(body=dumps(render(result.customer)), content_type="application/json")


async def list_customers(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    await edge.answered_calls_recorded()
    header = authorization(request)
    page = page_request(request)
    message = customers_pb2.ListCustomersRequest(
        limit=page.limit, starting_after=page.starting_after, ending_before=page.ending_before
    )
    if "external_id" in request.query:
        message.external_id = request.query["external_id"][:300]
    query = request.query.get("query", "")
    if len(query) > MAX_QUERY:
        raise RingsideError("invalid_request", f"query must be at most {MAX_QUERY} characters.", "query")
    message.query = query
    result = await edge.core.as_caller(edge.core.customers.ListCustomers, message, header)
    return web.Response(
        body=list_body(request, [render(c) for c in result.customers], result.has_more),
        content_type="application/json",
    )


async def delete_customer(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    header = authorization(request)
    force = request.query.get("force", "false").lower()
    if force not in ("true", "false"):
        raise RingsideError("invalid_request", "force must be true or false.", "force")
    result = await edge.core.as_caller(
        edge.core.customers.DeleteCustomer,
        customers_pb2.DeleteCustomerRequest(id=request.match_info["id"][:MAX_ID], force=force == "true"),
        header,
    )
    return web.Response(
        body=dumps({"id": result.id, "object": "customer", "deleted": True}), content_type="application/json"
    )


async def erase_customer(request: web.Request) -> web.Response:
    """202 with the blocked customer while its erasure waits for its holds; 200 once completed."""
    edge = request.app[EDGE]
    header = authorization(request)
    body = parse_object(await request.read() or b"{}")
    force = body.get("force", False)
    if not isinstance(force, bool):
        raise RingsideError("invalid_request", "force must be a boolean.", "force")
    result = await edge.core.as_caller(
        edge.core.customers.EraseCustomer,
        customers_pb2.EraseCustomerRequest(id=request.match_info["id"][:MAX_ID], force=force),
        header,
    )
    if result.status == "completed":
        payload: dict[str, Any] = {"id": result.id, "object": "customer", "deleted": True}
        payload["erasure"] = {"status": "completed"}
        return web.Response(status=200, body=dumps(payload), content_type="application/json")
    return web.Response(status=202, body=dumps(render(result.customer)), content_type="application/json")
