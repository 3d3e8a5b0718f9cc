"""/v1/accounts (the operator's admin key) and /v1/api_keys (an account's api:admin key)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from aiohttp import web

from edge_http.context import EDGE
from edge_http.handlers.common import (
    amount_usd,
    authorization,
    bearer,
    list_body,
    markup_bp,
    model_list,
    page_request,
    rendered_models,
)
from edge_http.openai.jsonio import dumps, parse_object
from ringside.core.v1 import accounts_pb2, keys_pb2
from ringside_server.errors import RingsideError
from ringside_server.ids import new_sortable_id
from ringside_server.usd import nano_to_usd


def _key(k: keys_pb2.ApiKey) -> dict[str, Any]:
    rendered: dict[str, Any] = {
        "id": k.id,
        "object": "api_key",
        "livemode": k.livemode,
        "name": k.name,
        "scopes": list(k.scopes),
        "redacted": k.redacted,
        "created": k.created,
        "allowed_models": rendered_models(k),
    }
    if k.secret:
        rendered["secret"] = k.secret
    return rendered


def _account(a: accounts_pb2.Account) -> dict[str, Any]:
    return {
        "id": a.id,
        "object": "account",
        "name": a.name,
        "created": a.created,
        "prepaid_balance_enabled": a.prepaid_balance_enabled,
        "balance_usd": nano_to_usd(a.prepaid_balance_nano_usd),
    }


async def create_account(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    header = authorization(request)
    body = parse_object(await request.read() or b"{}")
    name = body.get("name", "")
    if not isinstance(name, str):
        raise RingsideError("invalid_request", "name must be a string.", "name")
    result = await edge.core.as_caller(
        edge.core.accounts.CreateAccount, accounts_pb2.CreateAccountRequest(name=name), header
    )
    rendered = _account(result.account) | {"api_keys": [_key(result.live_key), _key(result.test_key)]}
    return web.Response(status=201, body=dumps(rendered), content_type="application/json")


async def top_up_balance(request: web.Request) -> web.Response:
    """POST /v1/accounts/:id/balance/topup {amount_usd, description?}: the operator funds an account."""
    edge = request.app[EDGE]
    header = authorization(request)
    body = parse_object(await request.read())
    description = body.get("description") or ""
    if not isinstance(description, str):
        raise RingsideError("invalid_request", "description must be a string.", "description")
    amount = amount_usd(body)
    result = await edge.core.as_caller(
        edge.core.accounts.TopUpAccountBalance,
        accounts_pb2.TopUpAccountBalanceRequest(
            account_id=request.match_info["id"][:200],
            amount_nano_usd=amount,
            description=description[:600],
            transfer_id=new_sortable_id("tr"),  # a resend after a cut-off credits nothing twice
        ),
        header,
    )
    return web.Response(body=dumps(_account(result.account)), content_type="application/json")


async def list_accounts(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    result = await edge.core.as_caller(
        edge.core.accounts.ListAccounts,
        accounts_pb2.ListAccountsRequest(page=page_request(request)),
        authorization(request),
    )
    return web.Response(
        body=list_body(request, [_account(a) for a in result.accounts], result.has_more),
        content_type="application/json",
    )


async def create_api_key(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    header = authorization(request)
    body = parse_object(await request.read() or b"{}")
    mode = body.get("mode") or ("live" if bearer(request).startswith("sk_live_") else "test")  # the caller's
    scopes = body.get("scopes", [])
    name = body.get("name", "")
    if mode not in ("live", "test"):
        raise RingsideError("invalid_request", "mode must be 'live' or 'test'.", "mode")
    if not isinstance(scopes, list) or len(scopes) > 10 or not all(isinstance(s, str) for s in scopes):
        raise RingsideError("invalid_request", "scopes must be a list of scope names.", "scopes")
    if not isinstance(name, str):
        raise RingsideError("invalid_request", "name must be a string.", "name")
    message = keys_pb2.CreateApiKeyRequest(livemode=mode == "live", scopes=scopes, name=name)
    models = model_list(body) if "allowed_models" in body else None
    if models is not None:
        message.allowed_models.CopyFrom(models)
    result = await edge.core.as_caller(edge.core.keys.CreateApiKey, message, header)
    return web.Response(status=201, body=dumps(_key(result.api_key)), content_type="application/json")


async def list_api_keys(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    result = await edge.core.as_caller(
        edge.core.keys.ListApiKeys, keys_pb2.ListApiKeysRequest(page=page_request(request)), authorization(request)
    )
    return web.Response(
        body=list_body(request, [_key(k) for k in result.api_keys], result.has_more), content_type="application/json"
    )


async def delete_api_key(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    result = await edge.core.as_caller(
        edge.core.keys.DeleteApiKey,
        keys_pb2.DeleteApiKeyRequest(id=request.match_info["id"][:200]),
        authorization(request),
    )
    return web.Response(
        body=dumps({"id": result.id, "object": "api_key", "deleted": True}), content_type="application/json"
    )


def _settings(settings: accounts_pb2.AccountSettings, livemode: bool) -> dict[str, Any]:
    return {
        "id": settings.account_id,
        "object": "account",
        "livemode": livemode,
        "auto_create_customers": settings.auto_create_customers,
        "markup_pct": Decimal(settings.markup_bp).scaleb(-2),
        "default_max_output_tokens": settings.default_max_output_tokens or None,
        "default_tier_id": settings.default_tier_id or None,
        "prepaid_balance_enabled": settings.prepaid_balance_enabled,
        "balance_usd": nano_to_usd(settings.prepaid_balance_nano_usd),
        "low_threshold_pct": settings.low_threshold_pct,
        "require_customer": settings.require_customer,
        "bare_model_provider": settings.bare_model_provider or None,
    }


def _bare_model_provider(providers: Mapping[str, object], value: object) -> str:
    """A provider this installation's catalog knows, or "" (null) for none."""
    if value is None:
        return ""
    if not isinstance(value, str) or value not in providers:
        known = ", ".join(sorted(providers)[:30])
        raise RingsideError(
            "invalid_request", f"bare_model_provider must be null or a provider id ({known}).", "bare_model_provider"
        )
    return value


async def get_account(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    header = authorization(request)
    result = await edge.core.as_caller(
        edge.core.accounts.GetAccountSettings, accounts_pb2.GetAccountSettingsRequest(), header
    )
    return web.Response(
        body=dumps(_settings(result.settings, bearer(request).startswith("sk_live_"))), content_type="application/json"
    )


async def update_account(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    header = authorization(request)
    body = parse_object(await request.read())
    message = accounts_pb2.UpdateAccountSettingsRequest()
    for flag in ("auto_create_customers", "prepaid_balance_enabled", "require_customer"):
        if flag in body:
            if not isinstance(body[flag], bool):
                raise RingsideError("invalid_request", f"{flag} must be a boolean.", flag)
            setattr(message, flag, body[flag])
    if "markup_pct" in body:
        message.markup_bp = markup_bp(body["markup_pct"])
    if "low_threshold_pct" in body:
        pct = body["low_threshold_pct"]
        if isinstance(pct, bool) or not isinstance(pct, int) or not 1 <= pct <= 100:
            raise RingsideError(
                "invalid_request", "low_threshold_pct must be an integer between 1 and 100.", "low_threshold_pct"
            )
        message.low_threshold_pct = pct
    if "default_max_output_tokens" in body:
        tokens = body["default_max_output_tokens"]
        if tokens is not None and (isinstance(tokens, bool) or not isinstance(tokens, int) or tokens < 1):
            raise RingsideError(
                "invalid_request",
                "default_max_output_tokens must be a positive integer or null.",
                "default_max_output_tokens",
            )
        message.default_max_output_tokens = tokens or 0
    if "default_tier_id" in body:
        tier = body["default_tier_id"]
        if tier is not None and not isinstance(tier, str):
            raise RingsideError(
                "invalid_request", "default_tier_id must be a tier id, a tier name or null.", "default_tier_id"
            )
        message.default_tier = (tier or "")[:200]
    if "bare_model_provider" in body:
        message.bare_model_provider = _bare_model_provider(edge.refs.providers, body["bare_model_provider"])
    result = await edge.core.as_caller(edge.core.accounts.UpdateAccountSettings, message, header)
    edge.forget_policies()  # a new default tier may change customers' allowed_models
    edge.forget_slots()  # bare names resolve anew on this edge at once; on the others within a second
    return web.Response(
        body=dumps(_settings(result.settings, bearer(request).startswith("sk_live_"))), content_type="application/json"
    )
