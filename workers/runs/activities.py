"""The run's activities, in the worker: a step (one model call, and what it makes of the run), a
wait for tool outputs, and a last resort that fails the run. Each reads the run from the core
first, so a step retried after a killed worker goes on from what the core holds: a message is
written under an id derived from the run and step, at most once, before the run moves on."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import AsyncIterator
from typing import Any

import orjson
from temporalio import activity

from ringside.core.v1 import assistants_pb2 as pb
from ringside.core.v1 import metering_pb2
from ringside_server.errors import RingsideError
from ringside_server.metering.gateway import Gateway
from ringside_server.metering.request import Caller
from ringside_server.openai import run_steps
from ringside_server.openai.assistant_objects import (
    MAX_RUN_STEPS,
    MAX_THREAD_MESSAGES,
    TERMINAL,
    message_object,
    usage_added,
)
from workers.runs.core_objects import RunObjects
from workers.runs.model_turn import RunContext, Turn, call_model, chat_body, searched
from workers.runs.shared import RunInput, StepOutcome

HEARTBEAT_EVERY_S = 2.0
WAIT_POLL_S = 0.2
WAIT_FOR_S = 60.0  # one wait activity; the workflow waits again while the run still needs outputs
GONE = ("not_found",)  # erased or deleted meanwhile
REVOKED = "invalid_api_key"  # the key the run acts as was revoked: the run ends failed (end_revoked)


def _message_id(run_id: str, step: int) -> str:
    """The step's message id: the same on a retry of the step, so it is written once."""
    return "msg_" + hashlib.sha256(f"{run_id}:{step}".encode()).hexdigest()[:24]


@contextlib.asynccontextmanager
async def _heartbeating() -> AsyncIterator[None]:
    """Tell Temporal this worker is alive while a model call runs (a killed one is noticed soon)."""

    async def beat() -> None:
        while True:
            activity.heartbeat()
            await asyncio.sleep(HEARTBEAT_EVERY_S)

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


class RunActivities:
    def __init__(self, gateway: Gateway) -> None:
        self._gateway = gateway

    @activity.defn(name="assistant_run_step")
    async def step(self, request: RunInput) -> StepOutcome:
        objects = RunObjects(self._gateway.core, request.key_id)
        try:
            return await self._step(objects, request)
        except RingsideError as error:
            if error.code != REVOKED:
                raise
            # a model call under way when the key was revoked finished (and is billed); its answer
            # is not written, and no further call is made
            return StepOutcome("done", await objects.end_revoked(request.run_id, request.thread_id))

    async def _step(self, objects: RunObjects, request: RunInput) -> StepOutcome:
        try:
            found = await objects.get(request.run_id, "run", request.thread_id)
        except RingsideError as error:
            if error.code in GONE:
                return StepOutcome("done", "gone")
            raise
        ended = await self._ended(objects, found)
        if ended is not None:
            return ended
        if found.status == "requires_action":
            return StepOutcome("waiting")
        run = orjson.loads(found.body_json)
        if found.status == "queued":  # picked up, or given its tool outputs
            run["status"] = "in_progress"
            run["started_at"] = run.get("started_at") or int(time.time())
            found = await objects.update(found, run, "in_progress")
            return StepOutcome("next")  # read again: a cancel may have come first
        async with _heartbeating():
            return await self._turn(objects, found, run, request)

    async def _ended(self, objects: RunObjects, found: pb.AssistantObject) -> StepOutcome | None:
        """The run is over, or must end now (cancelled, expired): its final status."""
        if found.status in TERMINAL:
            return StepOutcome("done", found.status)
        run = orjson.loads(found.body_json)
        now = int(time.time())
        if found.status == "cancelling":
            run |= {"status": "cancelled", "cancelled_at": now, "required_action": None}
        elif now > run["expires_at"]:
            run |= {"status": "expired", "required_action": None}
        else:
            return None
        written = await objects.update(found, run, run["status"])
        return StepOutcome("done", written.status) if written.status in TERMINAL else StepOutcome("next")

    async def _turn(
        self, objects: RunObjects, found: pb.AssistantObject, run: dict[str, Any], request: RunInput
    ) -> StepOutcome:
        private = orjson.loads(found.private_json or "{}")
        step = int(private.get("steps", 0))
        if step >= MAX_RUN_STEPS:
            return await self._fail(
                objects, found, run, {"code": "server_error", "message": "The run made too many model calls."}
            )
        caller = Caller(api_key="", live=found.livemode, customer_ref=found.customer_id, key_id=request.key_id)
        context = await self._context(objects, found, run)
        if "search" not in private:
            search = await searched(self._gateway, objects, caller, context)
            if isinstance(search, metering_pb2.Denial):
                return await self._fail(objects, found, run, {"code": search.code, "message": search.message})
            if search is not None:
                results = search.pop("results", [])  # kept in the step, not beside it
                private["search"] = search
                run_steps.record(private, run_steps.file_search_step(run, step, int(time.time()), results))
        turn = await call_model(self._gateway, caller, private["models"], chat_body(run, private, context.messages))
        if turn.error is not None:
            return await self._fail(objects, found, run, turn.error, turn)
        run["usage"] = usage_added(run.get("usage"), turn.usage)
        private["steps"] = step + 1
        if turn.tool_calls:
            private["history"] = [
                *private.get("history", []),
                {"role": "assistant", "content": None, "tool_calls": turn.tool_calls},
            ]
            run_steps.record(
                private, run_steps.function_calls_step(run, step, turn.tool_calls, int(time.time()), turn.usage)
            )
            run["required_action"] = {
                "type": "submit_tool_outputs",
                "submit_tool_outputs": {"tool_calls": turn.tool_calls},
            }
            run["status"] = "requires_action"
            written = await objects.update(found, run, "requires_action", private)
            return StepOutcome("waiting" if written.status == "requires_action" else "next")
        await self._answer(objects, run, private, step, turn)
        now = int(time.time())
        run_steps.record(private, run_steps.message_step(run, step, _message_id(run["id"], step), now, turn.usage))
        run |= {"status": "completed", "completed_at": now}
        written = await objects.update(found, run, "completed", private)
        return StepOutcome("done", written.status) if written.status in TERMINAL else StepOutcome("next")

    async def _context(self, objects: RunObjects, found: pb.AssistantObject, run: dict[str, Any]) -> RunContext:
        thread = orjson.loads((await objects.get(run["thread_id"], "thread")).body_json)
        try:
            assistant = orjson.loads((await objects.get(run["assistant_id"], "assistant")).body_json)
        except RingsideError as error:
            if error.code != "not_found":
                raise
            assistant = {}  # deleted since: the run keeps its own model, instructions and tools
        messages = await objects.thread_messages(run["thread_id"], MAX_THREAD_MESSAGES)
        earlier = [m for m in messages if m.get("run_id") != found.id]
        strategy = run.get("truncation_strategy") or {}
        if strategy.get("type") == "last_messages" and isinstance(strategy.get("last_messages"), int):
            earlier = earlier[-strategy["last_messages"] :]  # the thread's newest N, oldest first
        return RunContext(run, thread, assistant, earlier)

    async def _answer(
        self, objects: RunObjects, run: dict[str, Any], private: dict[str, Any], step: int, turn: Turn
    ) -> None:
        """The assistant's message, once (a retried step finds it written)."""
        message_id = _message_id(run["id"], step)
        try:
            await objects.get(message_id, "message", run["thread_id"])
            return
        except RingsideError as error:
            if error.code != "not_found":
                raise
        at = len(turn.text)
        cited = [
            {
                "type": "file_citation",
                "text": "",
                "start_index": at,
                "end_index": at,
                "file_citation": {"file_id": file_id},
            }
            for file_id, _ in (private.get("search") or {}).get("citations", [])
        ]
        message = message_object(
            message_id,
            run["thread_id"],
            int(time.time()),
            "assistant",
            turn.text,
            assistant_id=run["assistant_id"],
            run_id=run["id"],
            annotations=cited,
        )
        await objects.create_message(run["thread_id"], message)

    async def _fail(
        self,
        objects: RunObjects,
        found: pb.AssistantObject,
        run: dict[str, Any],
        error: dict[str, str],
        turn: Turn | None = None,
    ) -> StepOutcome:
        run |= {"status": "failed", "failed_at": int(time.time()), "last_error": error, "required_action": None}
        if turn is not None and turn.usage:
            run["usage"] = usage_added(run.get("usage"), turn.usage)
        written = await objects.update(found, run, "failed")
        return StepOutcome("done", written.status) if written.status in TERMINAL else StepOutcome("next")

    @activity.defn(name="assistant_run_wait")
    async def wait(self, request: RunInput) -> None:
        """Until the run is given its tool outputs, cancelled or expired (or a minute has passed)."""
        objects = RunObjects(self._gateway.core, request.key_id)
        deadline = time.monotonic() + WAIT_FOR_S
        while time.monotonic() < deadline:
            try:
                found = await objects.get(request.run_id, "run", request.thread_id)
            except RingsideError as error:
                if error.code == REVOKED:
                    await objects.end_revoked(request.run_id, request.thread_id)
                if error.code in GONE or error.code == REVOKED:
                    return
                raise
            if found.status != "requires_action" or time.time() > orjson.loads(found.body_json)["expires_at"]:
                return
            activity.heartbeat()
            await asyncio.sleep(WAIT_POLL_S)

    @activity.defn(name="assistant_run_fail")
    async def fail(self, request: RunInput) -> StepOutcome:
        objects = RunObjects(self._gateway.core, request.key_id)
        try:
            found = await objects.get(request.run_id, "run", request.thread_id)
        except RingsideError as error:
            if error.code == REVOKED:
                return StepOutcome("done", await objects.end_revoked(request.run_id, request.thread_id))
            if error.code in GONE:
                return StepOutcome("done", "gone")
            raise
        if found.status in TERMINAL:
            return StepOutcome("done", found.status)
        gave_up = {"code": "server_error", "message": "The run could not go on; create a new run to try again."}
        outcome = await self._fail(objects, found, orjson.loads(found.body_json), gave_up)
        return outcome  # "next" when a cancel came first: the workflow reads the run again
