"""A run's stream (`stream: true` on a run create or submit_tool_outputs): OpenAI's `thread.run.*`
and `thread.message.*` events, then `done`.

The run executes in a worker (a Temporal workflow), not in this request, so the edge follows it in
the core: each status the run moves to is one `thread.run.<status>` event, and each message the run
made is `thread.message.created`, `.in_progress`, one `.delta` with its text, `.completed`. The stream
ends with the run (or at `requires_action`, as OpenAI's does); a client that leaves stops only the
following, never the run."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiohttp import web

from edge_http.assistants import objects
from edge_http.handlers.metered import CLIENT_GONE
from edge_http.openai.jsonio import dumps
from ringside.core.v1 import assistants_pb2 as pb
from ringside_server.errors import RingsideError
from ringside_server.openai.assistant_objects import RUN_TTL_S, TERMINAL

POLL_S = 0.1
GRACE_S = 30  # followed this long past the run's expiry at most (the worker marks it expired)
MAX_MESSAGES_LISTED = 100


def frame(event: str, data: Any) -> bytes:
    return b"event: " + event.encode() + b"\ndata: " + dumps(data) + b"\n\n"


def message_frames(message: dict[str, Any]) -> bytes:
    """A finished message as it would have streamed: created (empty), in progress, its text, completed."""
    empty = {**message, "status": "in_progress", "content": [], "completed_at": None}
    delta = {
        "id": message["id"],
        "object": "thread.message.delta",
        "delta": {"content": [{"index": index, **part} for index, part in enumerate(message["content"])]},
    }
    return (
        frame("thread.message.created", empty)
        + frame("thread.message.in_progress", empty)
        + frame("thread.message.delta", delta)
        + frame("thread.message.completed", message)
    )


async def _run_messages(request: web.Request, run: dict[str, Any], seen: set[str]) -> bytes:
    """The run's messages not streamed yet, oldest first."""
    edge_listing = await objects.list_bodies(request, "message", run["thread_id"], MAX_MESSAGES_LISTED)
    out = b""
    for message in edge_listing:
        if message.get("run_id") == run["id"] and message["id"] not in seen:
            seen.add(message["id"])
            out += message_frames(message)
    return out


async def follow(request: web.Request, found: pb.AssistantObject, announce_created: bool) -> web.StreamResponse:
    """Stream the run from where it is until it ends or needs tool outputs."""
    response = web.StreamResponse(
        status=200, headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    await response.prepare(request)
    run = objects.body_of(found)
    deadline = time.monotonic() + max(0, run.get("expires_at", 0) - time.time()) + GRACE_S
    deadline = min(deadline, time.monotonic() + RUN_TTL_S + GRACE_S)
    seen: set[str] = set()
    last_status = ""
    try:
        if announce_created:
            await response.write(frame("thread.run.created", run))
        while True:
            status = run["status"]
            if status != last_status:
                if status in TERMINAL or status == "requires_action":
                    await response.write(await _run_messages(request, run, seen))
                await response.write(frame(f"thread.run.{status}", run))
                last_status = status
            if status in TERMINAL or status == "requires_action" or time.monotonic() > deadline:
                break
            await asyncio.sleep(POLL_S)
            try:
                run = objects.body_of(await objects.get(request, run["id"], "run", run["thread_id"]))
            except RingsideError as error:  # deleted (or erased) meanwhile: OpenAI's error event
                await response.write(frame("error", {"code": error.code, "message": error.message}))
                break
        await response.write(b"event: done\ndata: [DONE]\n\n")
        await response.write_eof()
    except CLIENT_GONE:
        pass  # the run goes on in its worker; the client reads it back with GET
    return response
