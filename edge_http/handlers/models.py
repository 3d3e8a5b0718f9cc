"""GET /v1/models: the refs this key can call, in OpenAI's list format.

Live keys see the models of the configured providers (`fc:` refs) and, for each model family, the
`match:` selector that rolls forward to its newest version; test keys see every ref (the test
model serves them all).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from edge_http.context import EDGE, TEST_PROVIDER
from edge_http.handlers.common import principal
from edge_http.openai.jsonio import dumps


async def list_models(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    caller = await principal(edge, request)

    def callable_(provider: str) -> bool:
        return not caller.livemode or provider in edge.providers or provider == TEST_PROVIDER

    data: list[dict[str, Any]] = [
        {"id": ref, "object": "model", "created": 0, "owned_by": model.provider}
        for ref, model in sorted(edge.catalog.items())
        if callable_(model.provider)
    ]
    for (provider, family), members in sorted(edge.refs.families.items()):
        if callable_(provider):
            newest = members[0]
            data.append(
                {
                    "id": f"match:{provider}/{family}>={newest.version[0]}",
                    "object": "model",
                    "created": 0,
                    "owned_by": provider,
                }
            )
    return web.Response(body=dumps({"object": "list", "data": data}), content_type="application/json")
