"""Helpers every handler shares: the caller's key and IP, rendering a refusal, 401-before-400, amounts."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any, NoReturn

from aiohttp import web

from edge_http.context import Edge
from edge_http.middlewares import REQUEST_ID
from edge_http.openai.errors import error_response
from ringside.core.v1 import keys_pb2, metering_pb2
from ringside_server.errors import RingsideError
from ringside_server.usd import usd_to_nano

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
MAX_FORWARDED_HOPS = 20


def bearer(request: web.Request) -> str:
    """The secret of `Authorization: Bearer <key>` ('' when absent)."""
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    return secret.strip() if scheme.lower() == "bearer" else ""


def authorization(request: web.Request) -> str:
    """The header to forward to the core for a Ringside route (a secret key, or a Client Token the
    client_tokens middleware has checked); 401 when there is none."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "client" and token.strip():
        return "Client " + token.strip()
    if not bearer(request):
        raise RingsideError("invalid_api_key", "You didn't provide an API key. Send 'Authorization: Bearer sk_…'.")
    return request.headers["Authorization"]


async def verify_then_raise(edge: Edge, api_key: str, error: RingsideError) -> NoReturn:
    """A request about to be refused for its content is refused for its key first, as OpenAI does."""
    if not api_key:
        raise RingsideError("invalid_api_key", "You didn't provide an API key. Send 'Authorization: Bearer sk_…'.")
    await edge.core.internal(edge.core.keys.VerifyApiKey, keys_pb2.VerifyApiKeyRequest(api_key=api_key))
    raise error


async def principal(edge: Edge, request: web.Request) -> keys_pb2.VerifyApiKeyResponse:
    api_key = bearer(request)
    if not api_key:
        raise RingsideError("invalid_api_key", "You didn't provide an API key. Send 'Authorization: Bearer sk_…'.")
    return await edge.core.internal(edge.core.keys.VerifyApiKey, keys_pb2.VerifyApiKeyRequest(api_key=api_key))


def reject(request: web.Request, denial: metering_pb2.Denial) -> web.Response:
    error = RingsideError(denial.code, denial.message, denial.param or None, denial.retry_after_seconds or None)
    should_retry = denial.should_retry if error.status in (402, 429) else None
    return error_response(error, request[REQUEST_ID], should_retry, denial.retry_after_ms or None)


def client_ip(request: web.Request, trusted_proxies: Sequence[IPNetwork]) -> str:
    """The caller's IP: the socket's peer; when that peer is a trusted proxy, the last address of
    X-Forwarded-For that is not a trusted proxy itself (API.md "Client Token")."""
    peer = request.remote or ""
    if not trusted_proxies or not _trusted(peer, trusted_proxies):
        return peer
    hops = [hop.strip() for hop in request.headers.get("X-Forwarded-For", "").split(",")[-MAX_FORWARDED_HOPS:]]
    for hop in reversed(hops):
        if hop and not _trusted(hop, trusted_proxies):
            return hop[:64]
    return peer


def _trusted(address: str, networks: Sequence[IPNetwork]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def amount_usd(body: dict[str, Any], required: bool = True) -> int:
    """The body's `amount_usd` in nano-USD (a number or numeric string, exact to 9 decimals); 0 when
    absent and not required."""
    if "amount_usd" not in body or body["amount_usd"] is None:
        if required:
            raise RingsideError("invalid_request", "amount_usd is required.", "amount_usd")
        return 0
    try:
        return usd_to_nano(body["amount_usd"])
    except ValueError as error:
        raise RingsideError("invalid_request", f"amount_usd: {error}.", "amount_usd") from None
