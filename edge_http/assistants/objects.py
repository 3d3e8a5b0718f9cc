"""The core's AssistantsService as a request's caller sees it: objects as OpenAI JSON, read and
written with the caller's own authorization and FC-Customer (404 across customers)."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from edge_http.context import EDGE
from edge_http.handlers.common import authorization
from edge_http.openai.jsonio import dumps
from ringside.core.v1 import assistants_pb2 as pb
from ringside_server.errors import RingsideError

MAX_ID = 64


def customer_ref(request: web.Request) -> str:
    return request.headers.get("FC-Customer", "").strip()


def body_of(found: pb.AssistantObject) -> dict[str, Any]:
    parsed: dict[str, Any] = orjson.loads(found.body_json)
    return parsed


def target(request: web.Request, object_id: str, kind: str, parent_id: str = "") -> pb.GetObjectRequest:
    return pb.GetObjectRequest(
        id=object_id[:MAX_ID], kind=kind, customer_ref=customer_ref(request), parent_id=parent_id[:MAX_ID]
    )


async def create(
    request: web.Request, kind: str, body: dict[str, Any], parent_id: str = "", status: str = "", private: str = "{}"
) -> pb.AssistantObject:
    edge = request.app[EDGE]
    made = pb.AssistantObject(
        id=body["id"],
        kind=kind,
        parent_id=parent_id,
        status=status,
        body_json=dumps(body).decode(),
        private_json=private,
        created=body["created_at"],
    )
    answer = await edge.core.as_caller(
        edge.core.assistants.CreateObject,
        pb.CreateObjectRequest(object=made, customer_ref=customer_ref(request)),
        authorization(request),
    )
    return answer.object


async def get(request: web.Request, object_id: str, kind: str, parent_id: str = "") -> pb.AssistantObject:
    edge = request.app[EDGE]
    answer = await edge.core.as_caller(
        edge.core.assistants.GetObject, target(request, object_id, kind, parent_id), authorization(request)
    )
    return answer.object


async def update(
    request: web.Request,
    found: pb.AssistantObject,
    body: dict[str, Any],
    status: str = "",
    private: str | None = None,
    only_from: tuple[str, ...] = (),
) -> pb.AssistantObject:
    edge = request.app[EDGE]
    answer = await edge.core.as_caller(
        edge.core.assistants.UpdateObject,
        pb.UpdateObjectRequest(
            target=target(request, found.id, found.kind, found.parent_id),
            body_json=dumps(body).decode(),
            private_json=found.private_json if private is None else private,
            status=status or found.status,
            only_from_status=list(only_from),
        ),
        authorization(request),
    )
    return answer.object


async def delete(request: web.Request, object_id: str, kind: str, parent_id: str = "") -> str:
    edge = request.app[EDGE]
    answer = await edge.core.as_caller(
        edge.core.assistants.DeleteObject, target(request, object_id, kind, parent_id), authorization(request)
    )
    return answer.id


async def page(request: web.Request, kind: str, parent_id: str = "") -> web.Response:
    """OpenAI's cursor list (`limit`, `order`, `after`, `before`; `first_id`, `last_id`, `has_more`)."""
    edge = request.app[EDGE]
    query = request.query
    raw = query.get("limit", "20")
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw[:4]) <= 100:
        raise RingsideError("invalid_request", "limit must be an integer between 1 and 100.", "limit")
    answer = await edge.core.as_caller(
        edge.core.assistants.ListObjects,
        pb.ListObjectsRequest(
            kind=kind,
            parent_id=parent_id[:MAX_ID],
            customer_ref=customer_ref(request),
            limit=int(raw[:4]),
            order=query.get("order", "desc")[:10],
            after=query.get("after", "")[:MAX_ID],
            before=query.get("before", "")[:MAX_ID],
        ),
        authorization(request),
    )
    data = [body_of(found) for found in answer.objects]
    listed = {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": answer.has_more,
    }
    return web.Response(body=dumps(listed), content_type="application/json")


def respond(body: dict[str, Any]) -> web.Response:
    return web.Response(body=dumps(body), content_type="application/json")


async def list_bodies(request: web.Request, kind: str, parent_id: str, limit: int) -> list[dict[str, Any]]:
    """The newest `limit` objects of a kind (a thread's), oldest first."""
    edge = request.app[EDGE]
    answer = await edge.core.as_caller(
        edge.core.assistants.ListObjects,
        pb.ListObjectsRequest(
            kind=kind, parent_id=parent_id[:MAX_ID], customer_ref=customer_ref(request), limit=limit, order="desc"
        ),
        authorization(request),
    )
    return [body_of(found) for found in reversed(answer.objects)]
