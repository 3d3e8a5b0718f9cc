"""GET /v1/models[/:id]: the refs this key can call, in OpenAI's list format.

Live keys see the models of the configured providers (`fc:` refs) and, for each model family, the
`match:` selector that rolls forward to its newest version; test keys see every ref (the test
model serves them all). The account's slots come last (`slot:<name>`, the newest 100). A key with
`allowed_models` sees only what it may call: the allowed models, each family's selector at the
newest major it may call, the slots with an allowed target.
"""

from __future__ import annotations

import contextlib
from typing import Any

from aiohttp import web

from edge_http.context import EDGE, TEST_PROVIDER, Edge
from edge_http.handlers.common import authorization, bearer, principal
from edge_http.openai.jsonio import dumps
from ringside.core.v1 import common_pb2, slots_pb2
from ringside_server.allowed_models import Policy
from ringside_server.errors import RingsideError
from ringside_server.metering import slot_refs

MAX_SLOTS_LISTED = 100
MAX_REF = 300


async def _listed(request: web.Request) -> list[dict[str, Any]]:
    """Every ref this key can call, as OpenAI's model objects."""
    edge = request.app[EDGE]
    caller = await principal(edge, request)
    policy = await edge.policy(bearer(request), key_only=True)

    def callable_(provider: str) -> bool:
        return not caller.livemode or provider in edge.providers or provider == TEST_PROVIDER

    data: list[dict[str, Any]] = [
        {"id": ref, "object": "model", "created": 0, "owned_by": model.provider}
        for ref, model in sorted(edge.catalog.items())
        if callable_(model.provider) and policy.allows(model, edge.refs)
    ]
    for (provider, family), members in sorted(edge.refs.families.items()):
        # the selector at the newest major the key may call (members: newest first)
        newest = next((member for member in members if policy.allows(member, edge.refs)), None)
        if callable_(provider) and newest is not None:
            selector = f"match:{provider}/{family}>={newest.version[0]}"
            data.append({"id": selector, "object": "model", "created": 0, "owned_by": provider})
    return data + [slot for slot, targets in await _slots(request) if _any_allowed(edge, targets, policy)]


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


def _any_allowed(edge: Edge, targets: list[str], policy: Policy) -> bool:
    if not policy.lists:
        return True
    with contextlib.suppress(RingsideError):  # a target this installation no longer knows
        return any(edge.allowed_model(ref, policy) is not None for ref in targets)
    return False


async def _slots(request: web.Request) -> list[tuple[dict[str, Any], list[str]]]:
    """The account's slots as listed, each with its targets."""
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
    return [
        (
            {"id": f"slot:{s.name}", "object": "model", "created": s.created, "owned_by": "slot"},
            slot_refs.decode(s.model)[0],
        )
        for s in result.slots
    ]
