"""/v1/slots (create, list, delete): a name that stands for an ordered list of model refs — the
first is called, the others are its fallbacks (`model` for one ref, `models` for the list)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from edge_http.context import EDGE
from edge_http.handlers.accounts import list_body, page_request
from edge_http.handlers.common import authorization
from edge_http.openai.jsonio import dumps, parse_object
from ringside.core.v1 import slots_pb2
from ringside.errors import RingsideError

MAX_REFS = 5


def render(slot: slots_pb2.Slot) -> dict[str, Any]:
    return {
        "id": slot.id,
        "object": "slot",
        "livemode": slot.livemode,
        "name": slot.name,
        "model": slot.model.split(",")[0],
        "models": slot.model.split(","),
        "created": slot.created,
    }


async def create_slot(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    header = authorization(request)
    body = parse_object(await request.read())
    name = body.get("name")
    if not isinstance(name, str):
        raise RingsideError("invalid_request", "name must be a string.", "name")
    models = body.get("models", [body.get("model")])
    if not isinstance(models, list) or not 1 <= len(models) <= MAX_REFS:
        raise RingsideError("invalid_request", f"models must be a list of 1..{MAX_REFS} model refs.", "models")
    refs = []
    for model in models:
        target = edge.resolve(model)  # only models this installation serves
        # A match: selector is kept as such, so the slot rolls forward with the catalog.
        refs.append(model if isinstance(model, str) and model.startswith("match:") else target.ref)
    result = await edge.core.as_caller(
        edge.core.slots.CreateSlot, slots_pb2.CreateSlotRequest(name=name, model=",".join(refs)), header
    )
    return web.Response(status=201, body=dumps(render(result.slot)), content_type="application/json")


async def list_slots(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    result = await edge.core.as_caller(
        edge.core.slots.ListSlots, slots_pb2.ListSlotsRequest(page=page_request(request)), authorization(request)
    )
    return web.Response(
        body=list_body(request, [render(s) for s in result.slots], result.has_more), content_type="application/json"
    )


async def delete_slot(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    result = await edge.core.as_caller(
        edge.core.slots.DeleteSlot,
        slots_pb2.DeleteSlotRequest(id=request.match_info["id"][:200]),
        authorization(request),
    )
    edge.slot_cache.clear()  # this edge forgets at once; others within a second
    return web.Response(
        body=dumps({"id": result.id, "object": "slot", "deleted": True}), content_type="application/json"
    )
