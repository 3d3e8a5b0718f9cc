"""Client Tokens (API.md "Client Token"): short-lived JWTs a browser carries instead of a secret key.

A token is bound to one customer, one Origin, optionally one IP, and a whitelist of
`"METHOD /path"` entries where `:id` stands for the token's own customer (its `cus_…` id or its
`ext:…` external id). Ringside signs with Ed25519 (EdDSA, pinned: nothing else verifies), under a
`kid` from its own key set; old keys keep verifying until every token they signed has expired.
This module holds the rules; signing and verifying is PyJWT's (`ringside_server/client_token.py`).
"""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from core.domain.entities import ApiKey, Customer, Denial
from core.domain.state import State
from ringside_server import client_token
from ringside_server.client_token import Claims
from ringside_server.errors import RingsideError

MIN_TTL_S = 60
MAX_TTL_S = 3600
DEFAULT_TTL_S = 900
MAX_ENDPOINTS = 20
MAX_ENDPOINT_LENGTH = 200
MAX_ORIGIN_LENGTH = 200
METHODS = ("GET", "POST", "PATCH", "DELETE")
# Signing keys are retired (no longer sign) on rotation and dropped once no token they signed can
# still be valid: the longest ttl plus a margin for clock skew.
KEY_GRACE_S = MAX_TTL_S + 300
_SEGMENT = re.compile(r"^[A-Za-z0-9_.:~-]+$")


@dataclass(frozen=True, slots=True)
class Endpoint:
    method: str
    segments: tuple[str, ...]  # ":id" stands for the token's customer

    def match(self, method: str, path: str, customer_refs: frozenset[str]) -> str:
        """ "own": the route, for the token's customer; "other": the route, naming another customer
        (a 404: to a token, other customers do not exist); "no": not this route (a 403)."""
        parts = path.rstrip("/").split("/")[1:]
        if method != self.method or len(parts) != len(self.segments):
            return "no"
        verdict = "own"
        for part, wanted in zip(parts, self.segments, strict=True):
            if wanted == ":id":
                verdict = verdict if part in customer_refs else "other"
            elif part != wanted:
                return "no"
        return verdict

    def __str__(self) -> str:
        return f"{self.method} /{'/'.join(self.segments)}"


@functools.lru_cache(maxsize=4096)  # the edge matches a token's entries on every call it makes
def parse_endpoint(entry: object) -> Endpoint:
    """`"GET /v1/customers/:id"` → Endpoint; a clear 400 for anything else."""
    if not isinstance(entry, str) or len(entry) > MAX_ENDPOINT_LENGTH:
        raise RingsideError(
            "invalid_request",
            f'allowed_endpoints entries are strings like "GET /v1/customers/:id" (≤ {MAX_ENDPOINT_LENGTH} chars).',
            "allowed_endpoints",
        )
    method, _, path = entry.strip().partition(" ")
    segments = tuple(path.strip().rstrip("/").split("/")[1:])
    if (
        method not in METHODS
        or not path.strip().startswith("/v1/")
        or not segments
        or not all(_SEGMENT.match(s) for s in segments)
    ):
        raise RingsideError(
            "invalid_request",
            f"'{entry[:100]}' is not an endpoint: write METHOD /v1/path, METHOD one of {', '.join(METHODS)}, "
            "and ':id' for the token's customer.",
            "allowed_endpoints",
        )
    return Endpoint(method, segments)


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
    key = ApiKey(claims.jti, claims.account_id, claims.livemode, "client token", scopes, "", "", claims.issued_at)
    return key, customer
