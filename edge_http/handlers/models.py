"""GET /v1/models: the refs this installation serves, in OpenAI's list format."""

from __future__ import annotations

from aiohttp import web

from edge_http.context import EDGE, TEST_PROVIDER
from edge_http.handlers.common import principal
from edge_http.openai.jsonio import dumps


async def list_models(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    caller = await principal(edge, request)
    data = [
        {"id": ref, "object": "model", "created": 0, "owned_by": model.provider}
        for ref, model in sorted(edge.catalog.items())
        if not caller.livemode or model.provider in edge.providers or model.provider == TEST_PROVIDER
    ]
    return web.Response(body=dumps({"object": "list", "data": data}), content_type="application/json")
