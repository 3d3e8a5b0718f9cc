"""POST /v1/embeddings: the same refs and the same metering as chat — resolve, hold the input's
upper bound, call the provider, settle the usage it reports; the answer is relayed as it came
(float or base64, as the client asked)."""

from __future__ import annotations

import orjson
from aiohttp import web

from edge_http.client_tokens import token_of
from edge_http.context import EDGE
from edge_http.handlers.common import authorize_request, bearer, reject, verify_then_raise
from edge_http.metering import COMPLETED, FAILED, admit, finish, usage_from_body
from edge_http.openai import embeddings as wire
from edge_http.openai.errors import provider_error_response
from edge_http.openai.jsonio import parse_object
from ringside.core.v1 import metering_pb2
from ringside_server.errors import RingsideError

MAX_UPSTREAM_BODY = 256 * 1024 * 1024  # 2048 inputs × 3072 floats as JSON text


async def embeddings(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    api_key = bearer(request)
    token = token_of(request)
    try:
        body = parse_object(await request.read())
        items = wire.inputs(body)
        model = (await edge.resolve_model(body.get("model"), api_key, peer=False))[0]  # a slot: its first model
        if model.kind != "embedding":
            raise RingsideError("invalid_request", f"'{model.ref}' is not an embedding model.", "model")
        if api_key.startswith("sk_live_") or (token is not None and token[1].livemode):
            edge.provider_for(model, livemode=True)  # 503 before holding anything
    except RingsideError as error:
        if token is None:
            await verify_then_raise(edge, api_key, error)
        raise
    decision = await admit(edge, authorize_request(edge, request, body, model, wire.tokens_bound(items), 0, 1, token))
    if isinstance(decision, metering_pb2.Denial):
        return reject(request, decision)
    headers = {"x-request-id": decision.request_id, "X-Ringside-Model-Resolved": model.ref}
    if decision.rate is not None:
        headers.update(decision.rate.headers())
    usage = usage_from_body(None)
    outcome, upstream_model = FAILED, ""
    try:
        provider = edge.provider_for(model, decision.livemode)
        upstream = await provider.embeddings({**body, "model": model.name})
        payload = await upstream.read(MAX_UPSTREAM_BODY)
        if upstream.status >= 400:
            return provider_error_response(upstream.status, payload, decision.request_id, headers)
        try:
            parsed = orjson.loads(payload)
        except orjson.JSONDecodeError:
            parsed = None
        if not isinstance(parsed, dict) or not isinstance(parsed.get("data"), list):
            raise RingsideError("upstream_error", "The provider's answer was not a list of embeddings.")
        outcome, usage, upstream_model = COMPLETED, usage_from_body(parsed), str(parsed.get("model", ""))
        return web.Response(body=payload, content_type="application/json", headers=headers)
    finally:
        await finish(edge, decision, model, outcome, usage, False, upstream_model)
