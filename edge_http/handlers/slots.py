"""/v1/slots (create, list, delete): a name that stands for an ordered list of model refs — the
first is called, the others are its fallbacks (`model` for one ref, `models` for the list) — and,
optionally, `weights`: then each call's first model is drawn by weight, the rest follow in order."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from edge_http.context import EDGE
from edge_http.handlers.common import authorization, list_body, page_request
from edge_http.openai.jsonio import dumps, parse_object
from ringside.core.v1 import slots_pb2
from ringside_server.errors import RingsideError
from ringside_server.metering import slot_refs

MAX_REFS = 5


def render(slot: slots_pb2.Slot) -> dict[str, Any]:
    refs, weights = slot_refs.decode(slot.model)
    return {
        "id": slot.id,
        "object": "slot",
        "livemode": slot.livemode,
        "name": slot.name,
        "model": refs[0],
        "models": refs,
        "weights": weights,
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
    weights = body.get("weights")
    if weights is not None and (
        not isinstance(weights, list)
        or len(weights) != len(models)
        or not all(isinstance(w, int) and not isinstance(w, bool) and 0 <= w <= slot_refs.MAX_WEIGHT for w in weights)
        or not any(weights)
    ):
        raise RingsideError(
            "invalid_request",
            f"weights must be one integer 0..{slot_refs.MAX_WEIGHT} per model, not all 0.",
            "weights",
        )
    refs = []
    for model in models:
        target = edge.resolve(model)  # only models this installation serves
        # A match: selector is kept as such, so the slot rolls forward with the catalog.
        refs.append(model if isinstance(model, str) and model.startswith("match:") else target.ref)
    stored = slot_refs.encode(refs, weights)
    result = await edge.core.as_caller(
        edge.core.slots.CreateSlot, slots_pb2.CreateSlotRequest(name=name, model=stored), header
    )
    edge.forget_policies()
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
    edge.forget_slots()  # this edge forgets at once; others within a second
    edge.forget_policies()  # slot: entries of allowed_models name its targets
    return web.Response(
        body=dumps({"id": result.id, "object": "slot", "deleted": True}), content_type="application/json"
    )
