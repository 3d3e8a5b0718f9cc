"""A migration's durable 7-day timer on Temporal's time-skipping test server (seven days run in
seconds): the ingest and migration workflows with their real activities — the parse cache, the
local model, an embedded index — against a real core process. Once completed, the old index is kept
and rollback is offered; after the 7 days the old index is dropped and rollback is refused with 409
`rollback_window_passed`, the new index staying live."""

from __future__ import annotations

import asyncio
import pathlib
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from rag.index import index_name
from ringside_server.core_client import CoreClient
from tests.e2e.test_chat_completions import client
from tests.harness import Stack
from tests.workers.rag_activities import ingest_activities, ingest_pending
from workers.rag_ingest.migration import MigrateStoreWorkflow, MigrationInput
from workers.rag_ingest.workflows import WORKFLOWS


@pytest.fixture(scope="module")
def core_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The core and the edge (no rag role: this test's worker is the rag role's ingest side)."""
    stack = Stack("sqlite", tmp_path_factory.mktemp("migration-timer"), None).start()
    yield stack
    stack.destroy()


def _call(stack: Stack, method: str, path: str, key: str, body: object = None) -> dict[str, object]:
    answer = stack.call(method, path, key, body)
    assert answer.status == 200, answer.body
    return dict(answer.json())


async def test_the_old_index_goes_after_seven_days_and_rollback_is_refused(
    skipping: WorkflowEnvironment, core_stack: Stack, tmp_path: pathlib.Path
) -> None:
    stack = core_stack
    key = stack.new_account()["test"]
    store = _call(stack, "POST", "/v1/vector_stores", key, {"name": "timer"})
    tides = b"# Tides\n\nThe harbour gates close two hours after high tide."
    file_id = client(stack, key).files.create(file=("tides.md", tides), purpose="assistants").id
    attached = _call(stack, "POST", f"/v1/vector_stores/{store['id']}/files", key, {"file_id": file_id})
    assert attached["status"] == "in_progress"

    core = CoreClient(f"127.0.0.1:{stack.grpc_port}", stack.internal_token)
    queue = f"rag-{uuid.uuid4()}"
    try:
        async with (
            ingest_activities(core, stack.data_dir / "files", tmp_path) as (activities, indexes),
            Worker(
                skipping.client,
                task_queue=queue,
                workflows=WORKFLOWS,
                activities=activities.all_activities(),
            ),
        ):
            outcome = await ingest_pending(core, skipping.client, queue, file_id)
            assert outcome.status == "completed", outcome
            old = index_name(store["id"], 0)
            assert indexes.count(old) >= 1

            migration = _call(
                stack,
                "POST",
                f"/v1/vector_stores/{store['id']}/migrate",
                key,
                {"embedding_model": "text-embedding-3-large"},
            )
            handle = await skipping.client.start_workflow(
                MigrateStoreWorkflow.run,
                MigrationInput(str(migration["id"])),
                id=f"migrate-{uuid.uuid4()}",
                task_queue=queue,
                execution_timeout=timedelta(days=30),
            )
            path = f"/v1/vector_stores/{store['id']}/migrations/{migration['id']}"
            deadline = time.monotonic() + 120
            while (found := _call(stack, "GET", path, key))["status"] == "in_progress":
                assert time.monotonic() < deadline, found
                await asyncio.sleep(0.2)  # real time: the workflow is in its activities
            assert found["status"] == "completed" and found["rollback_available"], found
            new = index_name(store["id"], 1)
            assert indexes.count(new) == indexes.count(old)  # both kept: rollback is possible for 7 days
            assert _call(stack, "GET", f"/v1/vector_stores/{store['id']}", key)["embedding_model"] == (
                "fc:openai/text-embedding-3-large"
            )

            assert await handle.result() == "retired"  # the client's wait lets the server skip the 7 days
            assert not indexes.exists(old) and indexes.count(new) == indexes.count(new, file_id)
            refused = stack.call("POST", f"{path}/rollback", key)
            assert refused.status == 409 and refused.json()["error"]["code"] == "rollback_window_passed", refused.body
            after = _call(stack, "GET", path, key)
            assert after["status"] == "completed" and after["rollback_available"] is False
            assert _call(stack, "GET", f"/v1/vector_stores/{store['id']}", key)["embedding_model"] == (
                "fc:openai/text-embedding-3-large"
            )
    finally:
        await core.close()
