"""Helpers every handler shares, in one place: the caller's key and IP, rendering a refusal,
401-before-400, pagination and list bodies, amounts, budgets, markups and counts."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, NoReturn

from aiohttp import web

from edge_http.context import Edge
from edge_http.middlewares import REQUEST_ID
from edge_http.openai.errors import anthropic_route, error_response
from edge_http.openai.jsonio import dumps
from ringside.core.v1 import common_pb2, keys_pb2, metering_pb2
from ringside_server import allowed_models
from ringside_server.errors import RingsideError
from ringside_server.usd import usd_to_nano

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
MAX_FORWARDED_HOPS = 20
MAX_COUNT = 10**9


MISSING_KEY = "You didn't provide an API key. Send 'Authorization: Bearer sk_…' or 'x-api-key: sk_…'."
MAX_KEY_CHARS = 512


def bearer(request: web.Request) -> str:
    """The secret of `Authorization: Bearer <key>`, else of `x-api-key: <key>` (what Anthropic's
    SDK sends); '' when neither is there."""
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and secret.strip():
        api_key = secret.strip()
    else:
        api_key = request.headers.get("x-api-key", "").strip()
    if len(api_key) > MAX_KEY_CHARS or not (api_key.isascii() and api_key.isprintable()):
        # no key has such characters; sent on to the core they would fail its metadata encoding
        raise RingsideError("invalid_api_key", "Incorrect API key provided.")
    return api_key


def authorization(request: web.Request) -> str:
    """The header to forward to the core for a Ringside route (a secret key, or a Client Token the
    client_tokens middleware has checked); 401 when there is none."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "client" and token.strip():
        return "Client " + token.strip()
    api_key = bearer(request)
    if not api_key:
        raise RingsideError("invalid_api_key", MISSING_KEY)
    return "Bearer " + api_key


async def verify_then_raise(edge: Edge, api_key: str, error: RingsideError) -> NoReturn:
    """A request about to be refused for its content is refused for its key first, as OpenAI does."""
    if not api_key:
        raise RingsideError("invalid_api_key", MISSING_KEY)
    await edge.core.internal(edge.core.keys.VerifyApiKey, keys_pb2.VerifyApiKeyRequest(api_key=api_key))
    raise error


async def principal(edge: Edge, request: web.Request) -> keys_pb2.VerifyApiKeyResponse:
    api_key = bearer(request)
    if not api_key:
        raise RingsideError("invalid_api_key", MISSING_KEY)
    return await edge.core.internal(edge.core.keys.VerifyApiKey, keys_pb2.VerifyApiKeyRequest(api_key=api_key))


def reject(request: web.Request, denial: metering_pb2.Denial) -> web.Response:
    error = RingsideError(denial.code, denial.message, denial.param or None, denial.retry_after_seconds or None)
    should_retry = denial.should_retry if error.status in (402, 429) else None
    retry_after_ms = denial.retry_after_ms or None
    response = error_response(error, request[REQUEST_ID], should_retry, retry_after_ms, anthropic_route(request.path))
    if denial.code.endswith("rate_limit_exceeded"):
        response.headers["X-RateLimit-Remaining"] = "0"  # the layer that refused it has none left
    return response


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


MAX_OPERATION_NANO = 10**15  # one wallet operation: at most 1e6 USD (API.md "Bodies")


def amount_usd(body: dict[str, Any], required: bool = True) -> int:
    """The body's `amount_usd` in nano-USD (a number or numeric string, exact to 9 decimals); 0 when
    absent and not required. Past 1e6 USD either way it is a 400 here, before it can overflow the
    core's 64-bit field (a huge amount was a 500)."""
    if "amount_usd" not in body or body["amount_usd"] is None:
        if required:
            raise RingsideError("invalid_request", "amount_usd is required.", "amount_usd")
        return 0
    try:
        nano = usd_to_nano(body["amount_usd"])
    except ValueError as error:
        raise RingsideError("invalid_request", f"amount_usd: {error}.", "amount_usd") from None
    if abs(nano) > MAX_OPERATION_NANO:
        raise RingsideError("invalid_request", "amount_usd must be at most 1e6 (USD).", "amount_usd")
    return nano


def page_request(request: web.Request) -> common_pb2.PageRequest:
    query = request.query
    raw = query.get("limit", "0")
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 3 or not 0 <= int(raw) <= 100:
        raise RingsideError("invalid_request", "limit must be an integer between 1 and 100.", "limit")
    limit = int(raw)
    return common_pb2.PageRequest(
        limit=limit,
        starting_after=query.get("starting_after", "")[:200],
        ending_before=query.get("ending_before", "")[:200],
    )


def fc_customer(request: web.Request) -> str:
    """The FC-Customer header (a customer ref), '' when absent."""
    return request.headers.get("FC-Customer", "").strip()[:300]


def openai_list(data: list[dict[str, Any]], has_more: bool) -> bytes:
    """OpenAI's list body (files, vector stores): `first_id`/`last_id` cursors, no `url`."""
    first, last = (data[0]["id"], data[-1]["id"]) if data else (None, None)
    return dumps({"object": "list", "data": data, "first_id": first, "last_id": last, "has_more": has_more})


def json_response(value: object, status: int = 200) -> web.Response:
    """A JSON answer (orjson) with its content type."""
    return web.Response(status=status, body=dumps(value), content_type="application/json")


def list_body(request: web.Request, data: list[dict[str, Any]], has_more: bool) -> bytes:
    return dumps({"object": "list", "data": data, "has_more": has_more, "url": request.path})


MAX_MARKUP_PCT = 1000


def markup_bp(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise RingsideError("invalid_request", "markup_pct must be a number.", "markup_pct")
    try:
        pct = Decimal(repr(value) if isinstance(value, float) else str(value).strip()[:20])
    except InvalidOperation:
        raise RingsideError("invalid_request", "markup_pct must be a number.", "markup_pct") from None
    if not pct.is_finite() or not 0 <= pct <= MAX_MARKUP_PCT:  # 1.3e154 was a 500 (int64 overflow)
        raise RingsideError("invalid_request", f"markup_pct must be between 0 and {MAX_MARKUP_PCT}.", "markup_pct")
    bp = pct.scaleb(2)
    if bp != bp.to_integral_value():
        raise RingsideError("invalid_request", "markup_pct takes at most 2 decimals.", "markup_pct")
    return int(bp)


MAX_BUDGET_NANO = 10**18  # 1e9 USD (API.md "Bodies")


def budget_nano(value: object, param: str) -> int:
    try:
        nano = usd_to_nano(value)
    except ValueError as error:
        raise RingsideError("invalid_request", f"{param}: {error}.", param) from None
    if not 0 <= nano <= MAX_BUDGET_NANO:
        raise RingsideError("invalid_request", f"{param} must be between 0 and 1e9 (USD) or null.", param)
    return nano


def count(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
        raise RingsideError("invalid_request", f"{name} must be an integer between 0 and 1e9, or null.", name)
    return value


MAX_TIME_CHARS = 40


def parse_time(value: str, param: str, end_of_day: bool = False) -> int:
    """Unix seconds from `YYYY-MM-DD` (UTC; as an `until`, the end of that day), RFC 3339, or seconds."""
    value = value.strip()[:MAX_TIME_CHARS]
    if value.isascii() and value.isdigit():  # str.isdigit() alone takes '²', which int() refuses
        if len(value) > 11:  # past the year 5000: not a time anyone means
            raise RingsideError("invalid_request", f"{param} is out of range.", param)
        return int(value)
    try:
        if len(value) == 10:
            day = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
            return int(day.timestamp()) + (86_400 if end_of_day else 0)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise RingsideError(
            "invalid_request", f"{param} must be YYYY-MM-DD, RFC 3339 or unix seconds.", param
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def model_list(body: dict[str, Any]) -> common_pb2.ModelList | None:
    """`allowed_models` as given (present in `body`): its entries checked, None for null."""
    entries = allowed_models.validate(body["allowed_models"])
    return None if entries is None else common_pb2.ModelList(entries=entries)


def rendered_models(holder: Any) -> list[str] | None:
    """A message's `allowed_models` as JSON: the entries, or null (every model)."""
    return list(holder.allowed_models.entries) if holder.HasField("allowed_models") else None
