"""/v1/accounts (the operator's admin key) and /v1/api_keys (an account's api:admin key)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from edge_http.context import EDGE
from edge_http.handlers.common import authorization
from edge_http.openai.jsonio import dumps, parse_object
from ringside.core.v1 import accounts_pb2, common_pb2, keys_pb2
from ringside.errors import RingsideError


def _key(k: keys_pb2.ApiKey) -> dict[str, Any]:
    rendered: dict[str, Any] = {
        "id": k.id,
        "object": "api_key",
        "livemode": k.livemode,
        "name": k.name,
        "scopes": list(k.scopes),
        "redacted": k.redacted,
        "created": k.created,
    }
    if k.secret:
        rendered["secret"] = k.secret
    return rendered


def _account(a: accounts_pb2.Account) -> dict[str, Any]:
    return {"id": a.id, "object": "account", "name": a.name, "created": a.created}


def page_request(request: web.Request) -> common_pb2.PageRequest:
    query = request.query
    try:
        limit = int(query.get("limit", "0"))
    except ValueError:
        raise RingsideError("invalid_request", "limit must be an integer between 1 and 100.", "limit") from None
    return common_pb2.PageRequest(
        limit=limit,
        starting_after=query.get("starting_after", "")[:200],
        ending_before=query.get("ending_before", "")[:200],
    )


def list_body(request: web.Request, data: list[dict[str, Any]], has_more: bool) -> bytes:
    return dumps({"object": "list", "data": data, "has_more": has_more, "url": request.path})


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
    mode = body.get("mode", "live")
    scopes = body.get("scopes", [])
    name = body.get("name", "")
    if mode not in ("live", "test"):
        raise RingsideError("invalid_request", "mode must be 'live' or 'test'.", "mode")
    if not isinstance(scopes, list) or len(scopes) > 10 or not all(isinstance(s, str) for s in scopes):
        raise RingsideError("invalid_request", "scopes must be a list of scope names.", "scopes")
    if not isinstance(name, str):
        raise RingsideError("invalid_request", "name must be a string.", "name")
    result = await edge.core.as_caller(
        edge.core.keys.CreateApiKey,
        keys_pb2.CreateApiKeyRequest(livemode=mode == "live", scopes=scopes, name=name),
        header,
    )
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
