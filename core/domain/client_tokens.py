"""Client Tokens (API.md "Client Token"): short-lived JWTs a browser carries instead of a secret key.

A token is bound to one customer, one Origin, optionally one IP, and a whitelist of
`"METHOD /path"` entries where `:id` stands for the token's own customer (its `cus_…` id or its
`ext:…` external id). Ringside signs with Ed25519 (EdDSA, pinned: nothing else verifies), under a
`kid` from its own key set; old keys keep verifying until every token they signed has expired.
This module holds the rules; signing and verifying is PyJWT's (`ringside_server/client_token.py`).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from core.domain.entities import ApiKey, Customer, Denial
from core.domain.state import State
from ringside_server import client_token
from ringside_server.client_token import Claims
from ringside_server.endpoints import Endpoint, parse_endpoint
from ringside_server.errors import RingsideError

MIN_TTL_S = 60
MAX_TTL_S = 3600
DEFAULT_TTL_S = 900
MAX_ENDPOINTS = 20
MAX_ORIGIN_LENGTH = 200
# Signing keys are retired (no longer sign) on rotation and dropped once no token they signed can
# still be valid: the longest ttl plus a margin for clock skew.
KEY_GRACE_S = MAX_TTL_S + 300


def parse_endpoints(entries: list[str]) -> tuple[Endpoint, ...]:
    if not 1 <= len(entries) <= MAX_ENDPOINTS:
        raise RingsideError(
            "invalid_request", f"allowed_endpoints takes 1 to {MAX_ENDPOINTS} entries.", "allowed_endpoints"
        )
    return tuple(dict.fromkeys(parse_endpoint(entry) for entry in entries))


def check_ttl(ttl_s: int) -> int:
    ttl = ttl_s or DEFAULT_TTL_S
    if not MIN_TTL_S <= ttl <= MAX_TTL_S:
        raise RingsideError(
            "invalid_request", f"ttl_seconds must be between {MIN_TTL_S} and {MAX_TTL_S}.", "ttl_seconds"
        )
    return ttl


def check_origin(origin: str) -> str:
    """An Origin as browsers send it: scheme://host[:port], nothing more."""
    parts = urlsplit(origin)
    if (
        len(origin) > MAX_ORIGIN_LENGTH
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.path
        or parts.query
        or parts.fragment
        or parts.username
        or origin != origin.strip().lower().rstrip("/")
    ):
        raise RingsideError(
            "invalid_request",
            "origin must be an origin as browsers send it, e.g. https://app.example.com (lower case, no path).",
            "origin",
        )
    return origin


def check_ip(ip: str) -> str:
    if not ip:
        return ""
    try:
        return str(ipaddress.ip_address(ip))
    except ValueError:
        raise RingsideError("invalid_request", "ip must be an IPv4 or IPv6 address.", "ip") from None


def verified(state: State, token: str, now: float) -> tuple[Claims, Customer]:
    """A token's claims and customer, checked against Ringside's keys and the customer's
    revocations; 401 invalid_client_token otherwise."""
    claims = client_token.verify(token, state.signing_keys, now)
    customer = state.customers.get(claims.customer_id)
    if customer is None or customer.account_id != claims.account_id or customer.livemode != claims.livemode:
        raise client_token.invalid("This client token's customer no longer exists.")
    if claims.issued_at_ms < customer.tokens_revoked_before_ms:
        raise client_token.invalid("This client token was revoked; mint a new one.")
    return claims, customer


def caller(state: State, token: str, customer_ref: str, now: float) -> tuple[ApiKey, Customer] | Denial:
    """Who a model call with a Client Token is: always the token's customer (an FC-Customer naming
    another is a 404), under a key of its account and mode that lives for this call only."""
    try:
        claims, customer = verified(state, token, now)
    except RingsideError as error:
        return Denial(error.code, error.message)
    if customer_ref and state.find_customer(claims.account_id, claims.livemode, customer_ref) is not customer:
        return Denial("customer_not_found", f"No such customer: '{customer_ref[:300]}'.", "FC-Customer")
    if customer.blocked:
        return Denial("customer_blocked", f"Customer {customer.id} is blocked.")
    scopes = frozenset({"api:write"})
    key = ApiKey(
        claims.jti,
        claims.account_id,
        claims.livemode,
        "client token",
        scopes,
        "",
        "",
        claims.issued_at,
        allowed_models=claims.models,  # the minting key's list travels with the token
    )
    return key, customer
