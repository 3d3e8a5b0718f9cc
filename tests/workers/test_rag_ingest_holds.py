"""The rag role's embedding holds when a core goes away (issue 25: with several active cores, a
core dies or is frozen and another takes its accounts over within seconds). Against a real core
process (SQLite), the real local model and an embedded index:

- a settle made while the core is down is recorded once it is back (`settle_retried`, which the
  ingest, the migration's batches and the media reads use): before, the rag role settled once and
  left the hold open, to be posted at its whole reserve when it expired;
- an ingest attempt that finds the previous attempt's hold in its heartbeat settles it with the
  tokens embedded under it before admitting the rest of the file: each chunk is paid once;
- a migration batch's hold (a media read's) whose settle the core refuses through all its retries
  stays in the attempt's heartbeat, and the next attempt settles it at what the batch (the read)
  used before admitting anything: none is left to expire at its reserve (DECISIONS 25)."""

from __future__ import annotations

import asyncio
import dataclasses
import pathlib
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import pytest
from temporalio import activity
from temporalio import exceptions as temporal_exceptions
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment
from temporalio.worker import Worker

from rag.embedder import LOCAL_MODEL_REF
from ringside.core.v1 import common_pb2, metering_pb2
from ringside.core.v1 import vector_stores_pb2 as pb
from ringside_server.core_client import CoreClient
from ringside_server.errors import RingsideError
from ringside_server.metering.settlement import settle_retried
from ringside_server.providers.catalog.load import load_catalog
from tests.e2e.test_chat_completions import client
from tests.e2e.test_rag_operations import VISION, large_text
from tests.harness import Stack
from tests.workers.rag_activities import ingest_activities, ingest_pending
from workers.rag_ingest import holds, migration
from workers.rag_ingest.activities import EMBED_BATCH
from workers.rag_ingest.holds import IngestHolds, OpenHold, settle_previous
from workers.rag_ingest.media import MediaReader, Payer
from workers.rag_ingest.migration import MigrateStoreWorkflow, MigrationInput
from workers.rag_ingest.reembed import BATCH, Target
from workers.rag_ingest.shared import IngestInput, LeftHold
from workers.rag_ingest.workflows import WORKFLOWS

PREVIOUS_TOKENS = 4000  # what the previous attempt embedded under its hold (its heartbeat says so)


@pytest.fixture(scope="module")
def core_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The core and the edge (no rag role: the test drives the ingest activity itself)."""
    stack = Stack("sqlite", tmp_path_factory.mktemp("ingest-holds"), None).start()
    yield stack
    stack.destroy()


@pytest.fixture
async def core(core_stack: Stack) -> AsyncIterator[CoreClient]:
    found = CoreClient(f"127.0.0.1:{core_stack.grpc_port}", core_stack.internal_token)
    yield found
    await found.close()


def _hold(stack: Stack, request_id: str) -> tuple[str, int | None]:
    """(the hold's state, the input tokens its usage record shows — None before it has one)."""
    (state,) = stack.query("SELECT state FROM holds WHERE id = ?", request_id)[0]
    usage = stack.query("SELECT input_tokens FROM usage_records WHERE request_id = ?", request_id)
    return str(state), int(usage[0][0]) if usage else None


async def _admitted(core: CoreClient, job: pb.IngestJobResponse, model_ref: str, bound: int) -> str:
    """A hold placed as an ingest attempt places it (the attaching key, the model's price): its id."""
    return await IngestHolds(core).admit(job.file, job.store, load_catalog()[model_ref], bound, holds.new_hold_id())


def _attached(stack: Stack, key: str, content: bytes) -> tuple[str, str]:
    """(store id, file id): a store on the local model with one file attached, not yet ingested."""
    sdk = client(stack, key)
    store_id = sdk.vector_stores.create(name="holds").id
    file_id = sdk.files.create(file=("handbook.md", content), purpose="assistants").id
    sdk.vector_stores.files.create(store_id, file_id=file_id)
    return store_id, file_id


async def test_a_settle_made_while_the_core_is_away_is_recorded_when_it_is_back(
    core_stack: Stack, core: CoreClient
) -> None:
    stack = core_stack
    key = stack.new_account()["test"]
    store_id, file_id = _attached(stack, key, b"The ferry leaves at nine.")
    job = await core.internal(core.vector_stores.GetIngestJob, pb.IngestJobRequest(store_id=store_id, file_id=file_id))
    hold = await _admitted(core, job, "fc:openai/text-embedding-3-small", 5000)
    stack.kill_role("core")  # away, as a core is between its death and another's takeover
    request = metering_pb2.SettleRequest(
        request_id=hold,
        usage=common_pb2.TokenCounts(input_tokens=120),
        outcome=metering_pb2.SETTLE_OUTCOME_COMPLETED,
        upstream_model="text-embedding-3-small",
    )
    settling = asyncio.create_task(settle_retried(core, request))
    try:
        await asyncio.sleep(1.0)  # the first tries fail: nothing listens
        assert not settling.done()
    finally:
        await asyncio.to_thread(stack.start_core)  # back (its open holds loaded from the database)
    answer = await asyncio.wait_for(settling, 60)
    assert answer is not None
    assert _hold(stack, hold) == ("settled", 120)  # at what was embedded, not its reserve of 5000


async def test_an_ingest_attempt_settles_the_previous_attempts_hold_first(
    core_stack: Stack, core: CoreClient, tmp_path: pathlib.Path
) -> None:
    stack = core_stack
    key = stack.new_account()["test"]
    store_id, file_id = _attached(stack, key, large_text("holds"))
    job = await core.internal(core.vector_stores.GetIngestJob, pb.IngestJobRequest(store_id=store_id, file_id=file_id))
    environment = ActivityEnvironment()
    async with ingest_activities(core, stack.data_dir / "files", tmp_path) as (activities, _):
        # the previous attempt: admitted for the whole file, wrote its first batch, then lost its core
        previous = await _admitted(core, job, LOCAL_MODEL_REF, 20_000)
        environment.info = dataclasses.replace(
            environment.info, heartbeat_details=[EMBED_BATCH, previous, PREVIOUS_TOKENS, "all-minilm-l6-v2"]
        )
        outcome = await environment.run(activities.ingest, IngestInput(store_id, file_id, job.file.attach_id))
    assert outcome.status == "completed" and outcome.chunk_count > EMBED_BATCH, outcome
    assert _hold(stack, previous) == ("settled", PREVIOUS_TOKENS)  # not left open to expire at its reserve
    rows = stack.query(
        "SELECT request_id, input_tokens FROM usage_records WHERE account_id = ? AND request_id != ?",
        _account_of(stack, previous),
        previous,
    )
    assert [int(tokens) for _, tokens in rows] == [outcome.embedding_tokens]  # this attempt: the rest only
    assert outcome.embedding_tokens > 0


def _account_of(stack: Stack, hold: str) -> str:
    return str(stack.query("SELECT account_id FROM holds WHERE id = ?", hold)[0][0])


def _settles_refused(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """From now on every settle of the rag role's holds fails as one still unreachable after its
    ~9 s of retries does (the core away longer): → the holds it was tried for."""
    tried: list[str] = []

    async def unreachable(_: CoreClient, request: metering_pb2.SettleRequest) -> None:
        tried.append(request.request_id)
        raise RingsideError("service_unavailable", "The core could not be reached.")

    monkeypatch.setattr(holds, "settle_retried", unreachable)
    return tried


def _open_holds(stack: Stack, account_id: str) -> list[str]:
    return [
        str(row[0]) for row in stack.query("SELECT id FROM holds WHERE account_id = ? AND state = 'open'", account_id)
    ]


async def test_a_migration_batch_left_unsettled_is_settled_by_the_next_attempt_at_its_usage(
    core_stack: Stack, core: CoreClient, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = core_stack
    key = stack.new_account()["test"]
    store_id, file_id = _attached(stack, key, b"A store to migrate.")
    job = await core.internal(core.vector_stores.GetIngestJob, pb.IngestJobRequest(store_id=store_id, file_id=file_id))
    target = Target(store_id, 7, LOCAL_MODEL_REF, False, job.file.key_id, job.store.customer_id)
    async with ingest_activities(core, stack.data_dir / "files", tmp_path) as (activities, _):
        reembedder = activities._reembedder
        model = reembedder.model(LOCAL_MODEL_REF)
        chunks, _ = reembedder.chunks(large_text("migrate").decode(), "", model)
        assert len(chunks) > BATCH  # two batches or more

        # the first attempt: its first batch embedded and written, its settle never recorded
        tried = _settles_refused(monkeypatch)
        first = OpenHold(core)
        with pytest.raises(RingsideError):  # the next batch is not admitted over an open hold
            await reembedder.embed_file(target, file_id, "handbook.md", chunks, {}, 0, hold=first)
        details = first.details()  # what that attempt's last heartbeat carried
        (left,) = set(tried)  # tried after the batch, and again before the next one was admitted
        assert details[1] == left and details[2] > 0
        monkeypatch.undo()

        # the next attempt: the old hold settled first, then the rest of the file (after batch 1)
        await settle_previous(core, details)
        second = OpenHold(core)
        done = await reembedder.embed_file(target, file_id, "handbook.md", chunks, {}, 0, hold=second)
    assert done.chunks == len(chunks) and done.embedded == len(chunks) - BATCH
    assert _hold(stack, left) == ("settled", details[2])  # at the batch's real usage, not its reserve
    account = _account_of(stack, left)
    assert _open_holds(stack, account) == []
    rows = stack.query("SELECT input_tokens FROM usage_records WHERE account_id = ?", account)
    assert len(rows) == -(-len(chunks) // BATCH)  # one usage record per batch
    assert sum(int(tokens) for (tokens,) in rows) == details[2] + done.tokens


async def test_a_media_reads_hold_left_unsettled_is_settled_by_the_next_attempt_at_its_usage(
    core_stack: Stack, core: CoreClient, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = core_stack
    key = stack.new_account()["test"]
    store_id, file_id = _attached(stack, key, b"A store with a picture.")
    job = await core.internal(core.vector_stores.GetIngestJob, pb.IngestJobRequest(store_id=store_id, file_id=file_id))
    async with ingest_activities(core, stack.data_dir / "files", tmp_path) as (activities, _):
        reader = MediaReader(core, load_catalog(), VISION, "", activities._embedding.provider_for)
        payer = Payer(job.file.key_id, job.store.customer_id, False)
        tried = _settles_refused(monkeypatch)
        read = OpenHold(core, 0)
        text = await reader.text_of("image", b"\x89PNG\r\n\x1a\n" + bytes(64), "photo.png", payer, read)
        assert text.strip()
        details = read.details()  # the ingest attempt's heartbeat: the read's hold and its usage
        (left,) = tried
        assert details[1] == left and details[2] > 0 and details[4] > 0
        monkeypatch.undo()
        await settle_previous(core, details)  # the next attempt, first thing
    (state,) = stack.query("SELECT state FROM holds WHERE id = ?", left)[0]
    usage = stack.query("SELECT input_tokens, output_tokens FROM usage_records WHERE request_id = ?", left)
    assert (str(state), [(int(a), int(b)) for a, b in usage]) == ("settled", [(details[2], details[4])])
    assert _open_holds(stack, _account_of(stack, left)) == []


@pytest.mark.parametrize("placed", [True, False])
async def test_an_authorize_cut_off_in_flight_is_settled_by_the_next_attempt(
    core_stack: Stack, core: CoreClient, monkeypatch: pytest.MonkeyPatch, placed: bool
) -> None:
    """A migration batch's Authorize whose answer never came back (its core died after writing the
    hold, or before): the hold's id was in the heartbeat before it was asked for, so the next attempt
    settles it — at nothing, no call ran under it — instead of leaving it to expire at its reserve;
    one never placed is nothing to settle."""
    stack = core_stack
    key = stack.new_account()["test"]
    store_id, file_id = _attached(stack, key, b"A store whose core dies.")
    job = await core.internal(core.vector_stores.GetIngestJob, pb.IngestJobRequest(store_id=store_id, file_id=file_id))
    real = core.internal

    async def cut_off(method: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        if method == core.metering.Authorize:
            if placed:
                await real(method, request, *args, **kwargs)  # written by the core, the answer lost
            raise RingsideError("service_unavailable", "The Ringside core is unreachable; retry shortly.")
        return await real(method, request, *args, **kwargs)

    monkeypatch.setattr(core, "internal", cut_off)
    attempt = OpenHold(core)
    model = load_catalog()[LOCAL_MODEL_REF]
    with pytest.raises(RingsideError):
        await attempt.admit(
            key_id=job.file.key_id, customer_id=job.store.customer_id, model=model, input_tokens_bound=900
        )
    details = attempt.details()  # the attempt's last heartbeat
    monkeypatch.undo()
    assert details[1].startswith("req_") and details[2] == 0
    found = stack.query("SELECT state FROM holds WHERE id = ?", details[1])
    assert [str(row[0]) for row in found] == (["open"] if placed else [])
    await settle_previous(core, details)  # the next attempt, first thing
    found = stack.query("SELECT state FROM holds WHERE id = ?", details[1])
    assert [str(row[0]) for row in found] == (["settled"] if placed else [])
    account = str(stack.query("SELECT account_id FROM api_keys WHERE id = ?", job.file.key_id)[0][0])
    assert _open_holds(stack, account) == []


async def test_a_migration_whose_every_attempt_ran_while_its_core_was_away_settles_the_batch_hold(
    skipping: WorkflowEnvironment,
    core_stack: Stack,
    core: CoreClient,
    tmp_path: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """RagMigrateStore on Temporal with its real activities: every embed attempt's settles are
    refused (its core away through all five attempts, as in one long takeover). The first batch's
    hold stays open through each retry; the last attempt's failure carries it to the workflow, whose
    own activity settles it once the core answers — at the batch's usage, not its reserve."""
    stack = core_stack
    key = stack.new_account()["test"]
    store_id, file_id = _attached(stack, key, large_text("away"))
    queue = f"rag-{uuid.uuid4()}"
    tried: list[str] = []
    real = holds.settle_retried

    async def away_for_the_embed(core_client: CoreClient, request: metering_pb2.SettleRequest) -> Any:
        if activity.in_activity() and activity.info().activity_type == "rag_migrate_embed":
            tried.append(request.request_id)
            raise RingsideError("service_unavailable", "The core could not be reached.")
        return await real(core_client, request)

    async with (
        ingest_activities(core, stack.data_dir / "files", tmp_path) as (activities, _),
        Worker(skipping.client, task_queue=queue, workflows=WORKFLOWS, activities=activities.all_activities()),
    ):
        ingested = await ingest_pending(core, skipping.client, queue, file_id)
        assert ingested.status == "completed", ingested
        started = stack.call(
            "POST", f"/v1/vector_stores/{store_id}/migrate", key, {"embedding_model": "text-embedding-3-large"}
        )
        assert started.status == 200, started.body
        monkeypatch.setattr(holds, "settle_retried", away_for_the_embed)
        ended = await skipping.client.execute_workflow(
            MigrateStoreWorkflow.run,
            MigrationInput(str(started.json()["id"])),
            id=f"migrate-{uuid.uuid4()}",
            task_queue=queue,
            execution_timeout=timedelta(hours=2),
        )
    assert ended == "failed"
    (left,) = set(tried)  # the first batch's hold, tried by every attempt
    assert len(tried) >= 5
    state, tokens = _hold(stack, left)
    assert state == "settled" and tokens is not None and tokens > 0  # at the batch's usage
    assert _open_holds(stack, _account_of(stack, left)) == []


@pytest.mark.parametrize("ended_by", ["failure", "heartbeat timeout", "nothing open"])
def test_the_workflow_reads_the_hold_a_last_attempt_left_from_its_failure(ended_by: str) -> None:
    """The last attempt raised (its failure carries the hold: `holds.carrying_hold`) or its rag role
    died (the heartbeat timeout carries its last heartbeat): either way the workflow learns the hold."""
    beat = (0, "req_leftbythelast01", 1234, "text-embedding-3-large", 0, 0)
    cause: BaseException = {
        "failure": holds.carrying_hold(RingsideError("service_unavailable", "away"), beat),
        "heartbeat timeout": temporal_exceptions.TimeoutError(
            "timed out", type=temporal_exceptions.TimeoutType.HEARTBEAT, last_heartbeat_details=beat
        ),
        "nothing open": holds.carrying_hold(RingsideError("service_unavailable", "away"), (0, "", 0, "")),
    }[ended_by]
    error = temporal_exceptions.ActivityError(
        "activity failed",
        scheduled_event_id=1,
        started_event_id=2,
        identity="rag",
        activity_type="rag_migrate_embed",
        activity_id="1",
        retry_state=temporal_exceptions.RetryState.MAXIMUM_ATTEMPTS_REACHED,
    )
    error.__cause__ = cause
    expected = None if ended_by == "nothing open" else LeftHold("req_leftbythelast01", 1234, "text-embedding-3-large")
    assert migration._left_by(error) == expected
