"""The run's objects in the core, read and written as the key that made the run (by id)."""

from __future__ import annotations

import time
from typing import Any

import orjson

from ringside.core.v1 import assistants_pb2 as pb
from ringside_server.core_client import ActingKey, CoreClient
from ringside_server.errors import RingsideError
from ringside_server.jsonio import dumps
from ringside_server.openai.assistant_objects import TERMINAL


class RunObjects:
    def __init__(self, core: CoreClient, key_id: str) -> None:
        self._core = core
        self.key = ActingKey(key_id)

    async def get(self, object_id: str, kind: str, parent_id: str = "") -> pb.AssistantObject:
        answer = await self._core.as_caller(
            self._core.assistants.GetObject, pb.GetObjectRequest(id=object_id, kind=kind, parent_id=parent_id), self.key
        )
        return answer.object

    async def update(
        self, found: pb.AssistantObject, body: dict[str, Any], status: str, private: dict[str, Any] | None = None
    ) -> pb.AssistantObject:
        """Write the run unless its status moved on meanwhile (a cancel): the run as it is now."""
        answer = await self._core.as_caller(
            self._core.assistants.UpdateObject,
            pb.UpdateObjectRequest(
                target=pb.GetObjectRequest(id=found.id, kind=found.kind, parent_id=found.parent_id),
                body_json=dumps(body).decode(),
                private_json=found.private_json if private is None else dumps(private).decode(),
                status=status,
                only_from_status=[found.status],
            ),
            self.key,
        )
        return answer.object

    async def end_revoked(self, run_id: str, thread_id: str) -> str:
        """The key the run acts as was revoked: the run ends `failed` (unless it had ended) with
        `invalid_api_key`, so its caller sees why it stopped. → the run's final status."""
        key = ActingKey(self.key.key_id, ending=True)
        try:
            found = (
                await self._core.as_caller(
                    self._core.assistants.GetObject,
                    pb.GetObjectRequest(id=run_id, kind="run", parent_id=thread_id),
                    key,
                )
            ).object
        except RingsideError as error:
            if error.code in ("not_found", "invalid_api_key"):  # deleted, erased, or its key is gone
                return "gone"
            raise
        if found.status in TERMINAL:
            return found.status
        run = orjson.loads(found.body_json)
        run |= {
            "status": "failed",
            "failed_at": int(time.time()),
            "required_action": None,
            "last_error": {
                "code": "invalid_api_key",
                "message": "The API key this run acted as (the one that made it, or minted its client token) "
                "was revoked; the run stopped.",
            },
        }
        answer = await self._core.as_caller(
            self._core.assistants.UpdateObject,
            pb.UpdateObjectRequest(
                target=pb.GetObjectRequest(id=found.id, kind="run", parent_id=found.parent_id),
                body_json=dumps(run).decode(),
                private_json=found.private_json,
                status="failed",
                only_from_status=[found.status],
            ),
            key,
        )
        return answer.object.status

    async def create_message(self, thread_id: str, message: dict[str, Any]) -> None:
        made = pb.AssistantObject(
            id=message["id"],
            kind="message",
            parent_id=thread_id,
            body_json=dumps(message).decode(),
            private_json="{}",
            created=message["created_at"],
        )
        await self._core.as_caller(self._core.assistants.CreateObject, pb.CreateObjectRequest(object=made), self.key)

    async def thread_messages(self, thread_id: str, limit: int) -> list[dict[str, Any]]:
        """The thread's newest `limit` messages, oldest first."""
        answer = await self._core.as_caller(
            self._core.assistants.ListObjects,
            pb.ListObjectsRequest(kind="message", parent_id=thread_id, limit=limit, order="desc"),
            self.key,
        )
        return [orjson.loads(found.body_json) for found in reversed(answer.objects)]
