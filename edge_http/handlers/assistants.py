"""/v1/assistants and /v1/threads (with their messages): the Assistants API's objects, kept for
compatibility (OpenAI has retired the API; docs/assistants.md). Runs are edge_http/handlers/runs.py."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from edge_http.assistants import objects, wire
from edge_http.openai.jsonio import parse_model_body
from edge_http.rag.stores import metadata_of
from ringside_server.ids import new_sortable_id
from ringside_server.openai.assistant_objects import message_object


async def create_assistant(request: web.Request) -> web.Response:
    fields = wire.assistant_fields(parse_model_body(await request.read()), creating=True)
    body = {"id": new_sortable_id("asst"), "object": "assistant", "created_at": int(time.time()), **fields}
    return objects.respond(objects.body_of(await objects.create(request, "assistant", body)))


async def get_assistant(request: web.Request) -> web.Response:
    return objects.respond(objects.body_of(await objects.get(request, request.match_info["id"], "assistant")))


async def modify_assistant(request: web.Request) -> web.Response:
    fields = wire.assistant_fields(parse_model_body(await request.read()), creating=False)
    found = await objects.get(request, request.match_info["id"], "assistant")
    updated = await objects.update(request, found, {**objects.body_of(found), **fields})
    return objects.respond(objects.body_of(updated))


async def delete_assistant(request: web.Request) -> web.Response:
    deleted = await objects.delete(request, request.match_info["id"], "assistant")
    return objects.respond({"id": deleted, "object": "assistant.deleted", "deleted": True})


async def list_assistants(request: web.Request) -> web.Response:
    return await objects.page(request, "assistant")


async def create_thread(request: web.Request) -> web.Response:
    return objects.respond(await new_thread(request, parse_model_body(await request.read())))


async def new_thread(request: web.Request, body: dict[str, Any]) -> dict[str, Any]:
    """A thread and its first messages (`POST /v1/threads`, and `POST /v1/threads/runs`'s `thread`)."""
    messages, resources, metadata = wire.thread_fields(body)
    now = int(time.time())
    thread = {"id": new_sortable_id("thread"), "object": "thread", "created_at": now}
    thread |= {"tool_resources": resources, "metadata": metadata}
    made = objects.body_of(await objects.create(request, "thread", thread))
    for role, text, message_metadata in messages:
        message = message_object(new_sortable_id("msg"), made["id"], now, role, text, metadata=message_metadata)
        await objects.create(request, "message", message, parent_id=made["id"])
    return made


async def get_thread(request: web.Request) -> web.Response:
    return objects.respond(objects.body_of(await objects.get(request, request.match_info["id"], "thread")))


async def modify_thread(request: web.Request) -> web.Response:
    body = parse_model_body(await request.read())
    wire.check_known(body, frozenset({"tool_resources", "metadata"}))
    found = await objects.get(request, request.match_info["id"], "thread")
    thread = objects.body_of(found)
    if "tool_resources" in body:
        thread["tool_resources"] = wire.tool_resources_of(body["tool_resources"])
    if "metadata" in body:
        thread["metadata"] = metadata_of(body["metadata"])
    return objects.respond(objects.body_of(await objects.update(request, found, thread)))


async def delete_thread(request: web.Request) -> web.Response:
    deleted = await objects.delete(request, request.match_info["id"], "thread")
    return objects.respond({"id": deleted, "object": "thread.deleted", "deleted": True})


async def create_message(request: web.Request) -> web.Response:
    role, text, metadata = wire.message_fields(parse_model_body(await request.read()))
    thread_id = request.match_info["thread_id"]
    message = message_object(new_sortable_id("msg"), thread_id[:64], int(time.time()), role, text, metadata=metadata)
    return objects.respond(objects.body_of(await objects.create(request, "message", message, parent_id=thread_id)))


async def get_message(request: web.Request) -> web.Response:
    found = await objects.get(request, request.match_info["id"], "message", request.match_info["thread_id"])
    return objects.respond(objects.body_of(found))


async def list_messages(request: web.Request) -> web.Response:
    return await objects.page(request, "message", request.match_info["thread_id"])
