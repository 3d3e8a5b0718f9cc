"""GET /v1/models[/:id]: the refs this key can call, in OpenAI's list format.

Live keys see the models of the configured providers (`fc:` refs) and, for each model family, the
`match:` selector that rolls forward to its newest version; test keys see every ref (the test
model serves them all). The account's slots come last (`slot:<name>`, the newest 100).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from edge_http.context import EDGE, TEST_PROVIDER
from edge_http.handlers.common import authorization, principal
from edge_http.openai.jsonio import dumps
from ringside.core.v1 import common_pb2, slots_pb2
from ringside_server.errors import RingsideError

MAX_SLOTS_LISTED = 100
MAX_REF = 300


async def _listed(request: web.Request) -> list[dict[str, Any]]:
    """Every ref this key can call, as OpenAI's model objects."""
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
    return data + await _slots(request)


async def list_models(request: web.Request) -> web.Response:
    data = await _listed(request)
    return web.Response(body=dumps({"object": "list", "data": data}), content_type="application/json")


async def get_model(request: web.Request) -> web.Response:
    """GET /v1/models/:id: one listed ref (`fc:openai/gpt-4o`, its slash sent as is or as %2F)."""
    wanted = request.match_info["id"][:MAX_REF]
    found = next((model for model in await _listed(request) if model["id"] == wanted), None)
    if found is None:
        raise RingsideError(
            "not_found",
            f"The model '{wanted[:200]}' does not exist or this key cannot call it (GET /v1/models lists them).",
            "model",
        )
    return web.Response(body=dumps(found), content_type="application/json")


async def _slots(request: web.Request) -> list[dict[str, Any]]:
    edge = request.app[EDGE]
    try:
        result = await edge.core.as_caller(
            edge.core.slots.ListSlots,
            slots_pb2.ListSlotsRequest(page=common_pb2.PageRequest(limit=MAX_SLOTS_LISTED)),
            authorization(request),
        )
    except RingsideError as error:
        if error.code == "insufficient_scope":  # a key that may call models but not read slots
            return []
        raise
    return [{"id": f"slot:{s.name}", "object": "model", "created": s.created, "owned_by": "slot"} for s in result.slots]
