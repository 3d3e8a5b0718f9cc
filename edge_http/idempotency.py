"""The Idempotency-Key middleware for POSTs that create Ringside objects or move money.

The core stores each key's first response (including a 5xx) and replays it with
`Idempotent-Replayed: true`; a request refused before it ran (a 4xx raised by validation or
authorization) releases the key unstored, as Stripe does. Model calls are not covered (API.md).
"""

from __future__ import annotations

import hashlib
import re

import orjson
from aiohttp import web

from edge_http.context import EDGE
from edge_http.handlers.common import bearer
from edge_http.middlewares import REQUEST_ID, Handler
from edge_http.openai.errors import error_body
from edge_http.openai.jsonio import dumps
from ringside.core.v1 import idempotency_pb2
from ringside_server.errors import RingsideError

COVERED = re.compile(
    r"^/v1/(customers|tiers|slots|api_keys|webhooks|batches|accounts/[^/]+/balance/topup"
    r"|customers/[^/]+/wallet/(topup|adjust|refund))$|^/(customer|budget)/new$"
)
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
    """What is kept for replays: a secret shown once (a new API key's, a webhook endpoint's) is never
    stored in clear — a replay says it was shown (`"secret": null, "secret_shown_once": true`), and a
    client that lost it rotates or creates another."""
    if b'"secret"' not in body:
        return body
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body
    if not isinstance(parsed, dict) or not isinstance(parsed.get("secret"), str):
        return body
    return dumps({**parsed, "secret": None, "secret_shown_once": True})


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
