"""The Idempotency-Key middleware for POSTs that create Ringside objects or move money.

The core stores each key's first response (including a 5xx) and replays it with
`Idempotent-Replayed: true`; a request refused before it ran (a 4xx raised by validation or
authorization) releases the key unstored, as Stripe does. Model calls are not covered (API.md).
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import orjson
from aiohttp import web

from edge_http.context import EDGE
from edge_http.handlers.common import bearer
from edge_http.middlewares import REQUEST_ID, Handler
from edge_http.openai.errors import error_body
from edge_http.openai.jsonio import dumps
from ringside.core.v1 import idempotency_pb2
from ringside_server.errors import RingsideError

# Creates and money moves (API.md "Idempotency"), and a webhook secret's rotation: a retried
# rotation must not rotate twice (the overlap would then drop the secret the client still holds).
COVERED = re.compile(
    r"^/v1/(customers|tiers|slots|api_keys|webhooks|batches|accounts|accounts/[^/]+/balance/topup"
    r"|customers/[^/]+/(client_tokens|wallet/(topup|adjust|refund))|webhooks/[^/]+/rotate_secret)$"
    r"|^/(customer|budget)/new$"
)
# Fields holding a secret shown once: an API key's or a webhook endpoint's (also after a
# rotation) `secret`, a Client Token's `token`, and the keys a new account comes with.
SHOWN_ONCE = ("secret", "token")
MAX_KEY = 255
MAX_STORED_BODY = 1024 * 1024
REPLAY = idempotency_pb2.IDEMPOTENCY_DECISION_REPLAY


@web.middleware
async def idempotency(request: web.Request, handler: Handler) -> web.StreamResponse:
    key = request.headers.get("Idempotency-Key")
    if key is None or request.method != "POST" or not COVERED.match(request.path):
        return await handler(request)
    if not 1 <= len(key) <= MAX_KEY:
        raise RingsideError("invalid_request", f"Idempotency-Key must be 1..{MAX_KEY} characters.", "Idempotency-Key")
    edge = request.app[EDGE]
    api_key = bearer(request)
    route = f"POST {request.path}"
    request_hash = hashlib.sha256(await request.read()).hexdigest()
    begun = await edge.core.internal(
        edge.core.idempotency.BeginIdempotent,
        idempotency_pb2.BeginIdempotentRequest(api_key=api_key, route=route, key=key, request_hash=request_hash),
    )
    if begun.decision == REPLAY:
        return web.Response(
            status=begun.status,
            body=begun.body,
            content_type="application/json",
            headers={"Idempotent-Replayed": "true", "x-request-id": request[REQUEST_ID]},
        )
    try:
        response = await handler(request)
    except RingsideError as error:
        if error.status < 500:  # refused before it ran: nothing to replay
            await edge.core.internal(
                edge.core.idempotency.AbortIdempotent,
                idempotency_pb2.AbortIdempotentRequest(api_key=api_key, route=route, key=key),
            )
            raise
        await _finish(request, api_key, route, key, request_hash, error.status, error_body(error, request[REQUEST_ID]))
        raise
    except Exception:
        failure = RingsideError("internal_error", "Ringside failed to handle this request.")
        await _finish(
            request, api_key, route, key, request_hash, failure.status, error_body(failure, request[REQUEST_ID])
        )
        raise
    body = response.body if isinstance(response, web.Response) and isinstance(response.body, bytes) else b""
    await _finish(request, api_key, route, key, request_hash, response.status, without_secret(body)[:MAX_STORED_BODY])
    return response


def without_secret(body: bytes) -> bytes:
    """What is kept for replays: a secret shown once is never stored in clear — a replay has it
    `null` and says it was shown (`"secret_shown_once": true` on each object that held one), and a
    client that lost it rotates or creates another."""
    if b'"secret"' not in body and b'"token"' not in body:
        return body
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body
    if not isinstance(parsed, dict):
        return body
    keys = parsed.get("api_keys")  # POST /v1/accounts: the account's first live and test keys
    if isinstance(keys, list):
        parsed["api_keys"] = [_shown(key) if isinstance(key, dict) else key for key in keys]
    return dumps(_shown(parsed))


def _shown(item: dict[str, Any]) -> dict[str, Any]:
    held = [name for name in SHOWN_ONCE if isinstance(item.get(name), str)]
    nested = any(isinstance(key, dict) and key.get("secret_shown_once") for key in item.get("api_keys") or [])
    if not held and not nested:
        return item
    return {**item, **dict.fromkeys(held), "secret_shown_once": True}


async def _finish(
    request: web.Request, api_key: str, route: str, key: str, request_hash: str, status: int, body: bytes
) -> None:
    edge = request.app[EDGE]
    await edge.core.internal(
        edge.core.idempotency.FinishIdempotent,
        idempotency_pb2.FinishIdempotentRequest(
            api_key=api_key, route=route, key=key, request_hash=request_hash, status=status, body=body
        ),
    )
