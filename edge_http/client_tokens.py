"""Client Tokens on the edge: verify the JWT with cached public keys (no core round trip), then
Origin, IP and the endpoint whitelist; and CORS for the browsers that carry them (API.md "Client
Token"). The core checks revocations where it is asked anyway (reads, leases, Authorize)."""

from __future__ import annotations

import logging
import time

import jwt
from aiohttp import web

from edge_http.context import EDGE, Edge
from edge_http.handlers.common import client_ip
from edge_http.middlewares import Handler
from ringside_server import client_token
from ringside_server.client_token import Claims
from ringside_server.endpoints import parse_endpoint
from ringside_server.errors import RingsideError

log = logging.getLogger("ringside.edge.tokens")
CLIENT_TOKEN = "client_token"  # request key: (token, Claims)
ALLOWED_HEADERS = ("authorization", "content-type", "fc-customer", "idempotency-key", "openai-beta")
EXPOSED_HEADERS = (
    "x-request-id",
    "x-ratelimit-limit-requests",
    "x-ratelimit-remaining-requests",
    "x-ratelimit-reset-requests",
    "x-ratelimit-limit-tokens",
    "x-ratelimit-remaining-tokens",
    "x-ratelimit-reset-tokens",
    "X-RateLimit-Remaining",
    "retry-after",
    "retry-after-ms",
    "x-should-retry",
    "X-Ringside-Wallet-Balance",
    "X-Ringside-Wallet-Deducted",
    "X-Ringside-Model-Resolved",
)
PREFLIGHT_MAX_AGE_S = 600


def _kid(token: str) -> str:
    try:
        return str(jwt.get_unverified_header(token).get("kid", ""))[:64]
    except jwt.PyJWTError:
        return ""


async def authenticate(request: web.Request, edge: Edge, token: str) -> Claims:
    """401 for a token that is not good here (forged, expired, other Origin or IP); 403 for a route
    outside its whitelist."""
    now = time.time()
    claims = edge.verified_tokens.seen(token, now)  # a browser sends one token again and again
    if claims is None:
        claims = edge.verified_tokens.verify(token, await edge.signing_keys.get(edge.core, _kid(token)), now)
    if request.headers.get("Origin", "") != claims.origin:
        raise client_token.invalid("This client token belongs to another origin.")
    if claims.ip and client_ip(request, edge.trusted_proxies) != claims.ip:
        raise client_token.invalid("This client token belongs to another IP address.")
    refs = frozenset({claims.customer_id, "ext:" + claims.external_id} if claims.external_id else {claims.customer_id})
    verdicts = {parse_endpoint(entry).match(request.method, request.path, refs) for entry in claims.endpoints}
    if "own" not in verdicts and "other" in verdicts:
        raise RingsideError("customer_not_found", "No such customer.", "id")
    if "own" not in verdicts:
        route = f"{request.method} {request.path[:200]}"
        raise RingsideError("endpoint_not_allowed", f"This client token does not allow {route}.")
    return claims


def _claimed_origin(token: str) -> str:
    """The origin a token names, signature unchecked: only to let its page read an error (a 401 that
    says "mint a new one"); it grants nothing."""
    try:
        return str(jwt.decode(token, options={"verify_signature": False}).get("origin", ""))
    except jwt.PyJWTError:
        return ""


def let_page_read_refusal(request: web.Request) -> None:
    """A Client Token's request refused before the token was checked (a rate limit): its page may
    still read why, as for the token's own refusals."""
    origin = request.headers.get("Origin", "")
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if origin and scheme.lower() == "client" and origin == _claimed_origin(token.strip()):
        request[CORS_ORIGIN] = origin


def _cors_headers(origin: str) -> dict[str, str]:
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Expose-Headers": ", ".join(EXPOSED_HEADERS),
        "Vary": "Origin",
    }


def _preflight(request: web.Request) -> web.Response:
    """Answered for any origin: it grants nothing (the actual request still needs a good token)."""
    asked = [h.strip().lower() for h in request.headers.get("Access-Control-Request-Headers", "").split(",")]
    headers = [h for h in asked if h in ALLOWED_HEADERS or h.startswith("x-stainless-")]
    return web.Response(
        status=204,
        headers={
            "Access-Control-Allow-Origin": request.headers.get("Origin", "*")[:300],
            "Access-Control-Allow-Methods": "GET, POST, PATCH, DELETE, OPTIONS",
            "Access-Control-Allow-Headers": ", ".join(dict.fromkeys([*ALLOWED_HEADERS, *headers])),
            "Access-Control-Max-Age": str(PREFLIGHT_MAX_AGE_S),
            "Vary": "Origin",
        },
    )


CORS_ORIGIN = "cors_origin"  # request key: the Origin its response may name


@web.middleware
async def client_tokens(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Preflights, and `Authorization: Client <jwt>`: verified here, before any handler runs."""
    origin = request.headers.get("Origin", "")
    if request.method == "OPTIONS" and origin and request.headers.get("Access-Control-Request-Method"):
        return _preflight(request)
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "client" or not token.strip():
        return await handler(request)
    token = token.strip()
    try:
        claims = await authenticate(request, request.app[EDGE], token)
    except RingsideError:
        if origin and origin == _claimed_origin(token):
            request[CORS_ORIGIN] = origin  # its page may read the refusal (e.g. "mint a new one")
        raise
    if origin:
        request[CORS_ORIGIN] = origin  # authenticate checked it is the token's
    request[CLIENT_TOKEN] = (token, claims)
    return await handler(request)


async def add_cors_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: streams too get their CORS headers before the first byte."""
    origin = request.get(CORS_ORIGIN)
    if origin:
        response.headers.update(_cors_headers(origin))


def token_of(request: web.Request) -> tuple[str, Claims] | None:
    value: tuple[str, Claims] | None = request.get(CLIENT_TOKEN)
    return value
