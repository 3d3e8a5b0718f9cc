"""GET /v1/events[/:id]: every event of the last 30 days, in Stripe's list shape, whether or not a
webhook endpoint subscribed to it — the body of each is exactly what receivers were sent."""

from __future__ import annotations

from aiohttp import web

from edge_http.context import EDGE
from edge_http.handlers.common import authorization, page_request, parse_time
from edge_http.openai.jsonio import dumps
from ringside.core.v1 import webhooks_pb2

MAX_ID = 64
MAX_TYPE = 100


def _created_range(request: web.Request) -> tuple[int, int | None]:
    """Stripe's `created[gte]`, `created[gt]`, `created[lte]`, `created[lt]` (and `created` alone:
    that second) as one inclusive range of unix seconds; None where there is no upper bound."""
    query = request.query
    lowest, highest = 0, None
    # param → (shift as a lower bound, shift as an upper bound); None: not that kind of bound
    bounds: dict[str, tuple[int | None, int | None]] = {
        "created": (0, 0),
        "created[gte]": (0, None),
        "created[gt]": (1, None),
        "created[lte]": (None, 0),
        "created[lt]": (None, -1),
    }
    for param, (low_shift, high_shift) in bounds.items():
        if param not in query:
            continue
        moment = parse_time(query[param], param)
        if low_shift is not None:
            lowest = max(lowest, moment + low_shift)
        if high_shift is not None:
            highest = moment + high_shift if highest is None else min(highest, moment + high_shift)
    return lowest, highest


async def list_events(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    created_gte, created_lte = _created_range(request)
    listed = await edge.core.as_caller(
        edge.core.webhooks.ListEvents,
        webhooks_pb2.ListEventsRequest(
            type=request.query.get("type", "")[:MAX_TYPE],
            created_gte=created_gte,
            created_lte=created_lte,
            page=page_request(request),
        ),
        authorization(request),
    )
    data = b",".join(event.body_json.encode() for event in listed.events)
    # The bodies are already JSON (as delivered): spliced in, never parsed and serialized again.
    envelope = dumps({"object": "list", "data": [], "has_more": listed.has_more, "url": request.path})
    body = envelope.replace(b'"data":[]', b'"data":[' + data + b"]", 1)
    return web.Response(body=body, content_type="application/json")


async def get_event(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    found = await edge.core.as_caller(
        edge.core.webhooks.GetEvent,
        webhooks_pb2.GetEventRequest(id=request.match_info["id"][:MAX_ID]),
        authorization(request),
    )
    return web.Response(body=found.event.body_json.encode(), content_type="application/json")
