"""A run's stream (`stream: true` on a run create or submit_tool_outputs): OpenAI's `thread.run.*`,
`thread.run.step.*` and `thread.message.*` events, in OpenAI's order, then `done`.

The run executes in a worker (a Temporal workflow), not in this request, so the edge follows it in
the core: each status the run moves to is one `thread.run.<status>` event, and each step the run
recorded is `thread.run.step.created`, `.in_progress`, a `.delta` with its tool calls (a tool-call
step) or its message's `thread.message.created`, `.in_progress`, one `.delta` with its text and
`.completed` (a message-creation step), then `thread.run.step.completed` once the step is. The stream
ends with the run (or at `requires_action`, as OpenAI's does); a client that leaves stops only the
following, never the run."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson
from aiohttp import web

from edge_http.assistants import objects
from edge_http.handlers.metered import CLIENT_GONE
from edge_http.openai.jsonio import dumps
from ringside.core.v1 import assistants_pb2 as pb
from ringside_server.errors import RingsideError
from ringside_server.openai import run_steps
from ringside_server.openai.assistant_objects import RUN_TTL_S, TERMINAL

POLL_S = 0.1
GRACE_S = 30  # followed this long past the run's expiry at most (the worker marks it expired)
NEVER_RAN = ("queued", "cancelling", "cancelled", "expired")


def frame(event: str, data: Any) -> bytes:
    return b"event: " + event.encode() + b"\ndata: " + dumps(data) + b"\n\n"


def _part_delta(index: int, part: dict[str, Any]) -> dict[str, Any]:
    """A content part as a delta: indexed, and so is each of its text's annotations (OpenAI's)."""
    text = part.get("text")
    if part.get("type") == "text" and isinstance(text, dict) and text.get("annotations"):
        annotations = [{"index": at, **note} for at, note in enumerate(text["annotations"])]
        part = {**part, "text": {**text, "annotations": annotations}}
    return {"index": index, **part}


def message_frames(message: dict[str, Any]) -> bytes:
    """A finished message as it would have streamed: created (empty), in progress, its text, completed."""
    empty = {**message, "status": "in_progress", "content": [], "completed_at": None}
    delta = {
        "id": message["id"],
        "object": "thread.message.delta",
        "delta": {"content": [_part_delta(index, part) for index, part in enumerate(message["content"])]},
    }
    return (
        frame("thread.message.created", empty)
        + frame("thread.message.in_progress", empty)
        + frame("thread.message.delta", delta)
        + frame("thread.message.completed", message)
    )


def _steps_of(found: pb.AssistantObject) -> list[dict[str, Any]]:
    private = orjson.loads(found.private_json or "{}")
    steps: list[dict[str, Any]] = private.get(run_steps.STEPS_KEY, [])
    return steps


def _opened(step: dict[str, Any]) -> dict[str, Any]:
    """A step as it was when it began: in progress, its tool calls still to come (in the delta)."""
    details = step["step_details"]
    if details["type"] == "tool_calls":
        details = {"type": "tool_calls", "tool_calls": []}
    return {**step, "status": "in_progress", "completed_at": None, "usage": None, "step_details": details}


def _in_progress(run: dict[str, Any]) -> dict[str, Any]:
    """The run as it was while it ran (its `in_progress` status came and went between two reads)."""
    cleared = ("completed_at", "failed_at", "cancelled_at", "last_error", "required_action", "usage")
    return {**run, "status": "in_progress", **dict.fromkeys(cleared)}


class _Follower:
    """What of the run's steps was streamed already: a step is created once and completed once."""

    def __init__(self, request: web.Request, steps: list[dict[str, Any]], completed_now: frozenset[str]) -> None:
        self.request = request
        self.created = {step["id"] for step in steps}
        self.completed = {step["id"] for step in steps if step["status"] == "completed"} - completed_now

    async def step_frames(self, run: dict[str, Any], steps: list[dict[str, Any]]) -> bytes:
        out = b""
        for step in steps:
            shown = run_steps.shown(step)
            if step["id"] not in self.created:
                self.created.add(step["id"])
                opened = _opened(shown)
                out += frame("thread.run.step.created", opened) + frame("thread.run.step.in_progress", opened)
                details = shown["step_details"]
                if details["type"] == "tool_calls":
                    calls = [{"index": index, **call} for index, call in enumerate(details["tool_calls"])]
                    delta = {"step_details": {"type": "tool_calls", "tool_calls": calls}}
                    out += frame(
                        "thread.run.step.delta", {"id": step["id"], "object": "thread.run.step.delta", "delta": delta}
                    )
                else:
                    out += await self._message(run, details["message_creation"]["message_id"])
            if step["status"] == "completed" and step["id"] not in self.completed:
                self.completed.add(step["id"])
                out += frame("thread.run.step.completed", shown)
        return out

    async def _message(self, run: dict[str, Any], message_id: str) -> bytes:
        try:
            message = objects.body_of(await objects.get(self.request, message_id, "message", run["thread_id"]))
        except RingsideError as error:
            if error.code != "not_found":
                raise
            return b""  # deleted meanwhile
        return message_frames(message)


async def follow(
    request: web.Request,
    found: pb.AssistantObject,
    announce_created: bool,
    completed_now: frozenset[str] = frozenset(),
) -> web.StreamResponse:
    """Stream the run from where it is until it ends or needs tool outputs; `completed_now`: the
    steps the tool outputs just completed (their `.completed` event is this stream's)."""
    response = web.StreamResponse(
        status=200, headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    await response.prepare(request)
    run = objects.body_of(found)
    follower = _Follower(request, _steps_of(found), completed_now)
    deadline = time.monotonic() + max(0, run.get("expires_at", 0) - time.time()) + GRACE_S
    deadline = min(deadline, time.monotonic() + RUN_TTL_S + GRACE_S)
    last_status = ""
    try:
        if announce_created:
            await response.write(frame("thread.run.created", run))
        while True:
            status = run["status"]
            if status != last_status:
                out = b""
                if last_status == "queued" and status not in ("in_progress", *NEVER_RAN) and run.get("started_at"):
                    out += frame("thread.run.in_progress", _in_progress(run))  # ran between two reads
                # a run's steps come after it is in progress and before it ends (or waits)
                steps = b"" if status == "queued" else await follower.step_frames(run, _steps_of(found))
                if status == "in_progress":
                    out += frame("thread.run.in_progress", run) + steps
                else:
                    out += steps + frame(f"thread.run.{status}", run)
                await response.write(out)
                last_status = status
            if status in TERMINAL or status == "requires_action" or time.monotonic() > deadline:
                break
            await asyncio.sleep(POLL_S)
            try:
                found = await objects.get(request, run["id"], "run", run["thread_id"])
                run = objects.body_of(found)
            except RingsideError as error:  # deleted (or erased) meanwhile: OpenAI's error event
                await response.write(frame("error", {"code": error.code, "message": error.message}))
                break
        await response.write(b"event: done\ndata: [DONE]\n\n")
        await response.write_eof()
    except CLIENT_GONE:
        pass  # the run goes on in its worker; the client reads it back with GET
    return response
