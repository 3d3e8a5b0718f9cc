"""/v1/customers/:id/client_tokens (mint, revoke_all), the operator's key rotation, and the public
key set (JWKS) anyone may use to check a token."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from edge_http.context import EDGE
from edge_http.handlers.common import authorization
from edge_http.openai.jsonio import dumps, parse_object
from ringside.core.v1 import client_tokens_pb2
from ringside_server.client_token import ALGORITHM, SigningKey
from ringside_server.errors import RingsideError

MAX_ID = 300


def _ttl(body: dict[str, Any]) -> int:
    ttl = body.get("ttl_seconds")
    if ttl is None:
        return 0  # the default, 900 s
    if isinstance(ttl, bool) or not isinstance(ttl, int) or not 0 < ttl <= 1_000_000:
        raise RingsideError("invalid_request", "ttl_seconds must be an integer between 60 and 3600.", "ttl_seconds")
    return ttl


def _string(body: dict[str, Any], name: str, required: bool) -> str:
    value = body.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise RingsideError("invalid_request", f"{name} is required and must be a string.", name)
    return value


def _endpoints(body: dict[str, Any]) -> list[str]:
    entries = body.get("allowed_endpoints")
    if not isinstance(entries, list) or not entries or len(entries) > 100:
        raise RingsideError(
            "invalid_request",
            'allowed_endpoints is required: a list like ["GET /v1/customers/:id", "POST /v1/chat/completions"].',
            "allowed_endpoints",
        )
    if not all(isinstance(entry, str) for entry in entries):
        raise RingsideError("invalid_request", "every allowed_endpoints entry must be a string.", "allowed_endpoints")
    return entries


async def create_client_token(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    header = authorization(request)
    body = parse_object(await request.read())
    message = client_tokens_pb2.CreateClientTokenRequest(
        customer_id=request.match_info["id"][:MAX_ID],
        ttl_seconds=_ttl(body),
        origin=_string(body, "origin", required=True)[:1000],
        ip=_string(body, "ip", required=False)[:100],
        allowed_endpoints=[entry[:1000] for entry in _endpoints(body)],
    )
    minted = await edge.core.as_caller(edge.core.client_tokens.CreateClientToken, message, header)
    rendered = {
        "id": minted.id,
        "object": "client_token",
        "token": minted.token,
        "customer_id": minted.customer_id,
        "origin": minted.origin,
        "ip": minted.ip or None,
        "allowed_endpoints": list(minted.allowed_endpoints),
        "created": minted.created,
        "expires_at": minted.expires_at,
    }
    return web.Response(status=201, body=dumps(rendered), content_type="application/json")


async def revoke_client_tokens(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    result = await edge.core.as_caller(
        edge.core.client_tokens.RevokeClientTokens,
        client_tokens_pb2.RevokeClientTokensRequest(customer_id=request.match_info["id"][:MAX_ID]),
        authorization(request),
    )
    rendered = {"object": "client_token_revocation", "revoked_before": result.revoked_before_ms / 1000}
    return web.Response(body=dumps(rendered), content_type="application/json")


async def rotate_signing_key(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    result = await edge.core.as_caller(
        edge.core.client_tokens.RotateSigningKey, client_tokens_pb2.RotateSigningKeyRequest(), authorization(request)
    )
    key = result.key
    rendered = {"object": "signing_key", "kid": key.kid, "alg": ALGORITHM, "created": key.created}
    return web.Response(body=dumps(rendered), content_type="application/json")  # a rotate: 200, as API.md says


async def jwks(request: web.Request) -> web.Response:
    """The public keys that may verify a live Client Token (RFC 7517), for anyone to check one."""
    edge = request.app[EDGE]
    response = await edge.core.internal(
        edge.core.client_tokens.ListSigningKeys, client_tokens_pb2.ListSigningKeysRequest()
    )
    keys = [SigningKey(k.kid, "", k.public_key_b64, k.created).jwk() for k in response.keys]
    return web.Response(
        body=dumps({"keys": keys}), content_type="application/json", headers={"Cache-Control": "max-age=60"}
    )
