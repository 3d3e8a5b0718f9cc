"""A vector store's files from attach to erasure (issue 16's gaps; issue 27 item 2), on the real
Temporal dev server, the rag role (parser, local model, embedded engine) and both
databases: an erased customer's name, email, external id and a phrase of its uploaded file are
nowhere — not in the database's bytes (SQLite after a WAL checkpoint, with secure_delete on; a
dump of PostgreSQL), not in any file under the data dir (file store, indexes, cached parses, logs);
a deleted file leaves every store at once; `file_ids` at create attaches; the rag role's sweep
removes stale `.partial` uploads and bytes no file names; a store pinned to OpenAI's embedding model
ingests too (a test key's through the test model, metered to the owner), and a live one whose
provider is not configured fails with a clear `server_error`."""

from __future__ import annotations

import asyncio
import contextlib
import os
import pathlib
import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import grpc
import openai
import pytest

from rag.fence import FencedIndexes, FileFence
from rag.index import IndexPoint, index_name, open_indexes
from ringside.rag.v1 import rag_pb2, rag_pb2_grpc
from ringside_server.core_client import CoreClient
from ringside_server.file_store import LocalFileStore
from tests.conftest import backend_of
from tests.e2e.rag_ingest_stack import ingest_stack, settled
from tests.e2e.test_chat_completions import client
from tests.e2e.test_erase import _database_bytes, _person, _traces
from tests.harness import Stack, wait_until
from workers.rag_ingest.sweep import Sweeper

WRITE_WAITS_S = 0.3  # how long the test watches a write wait behind the sweep's fence

SWEEP_ENV = {"RINGSIDE_RAG_SWEEP_INTERVAL_S": "0.5", "RINGSIDE_RAG_SWEEP_GRACE_S": "3"}
GONE_DEADLINE_S = 60.0
HOURS_AGO = time.time() - 2 * 3600  # past the default `.partial` TTL (1 h) and the sweep's grace


# Erasure, deletion and the sweep: what the stores decide (docs/testing.md).
pytestmark = pytest.mark.both_backends


@pytest.fixture(scope="module")
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    backend = backend_of(request)
    work = tmp_path_factory.mktemp(f"rag-lifecycle-{backend}")
    with ingest_stack(backend, work, SWEEP_ENV) as running:
        yield running


def _data_dir_bytes(stack: Stack) -> bytes:
    """Every file under the data dir (the SQLite database after a checkpoint, via _database_bytes)."""
    found = [_database_bytes(stack)]
    for directory, _subdirectories, names in os.walk(stack.data_dir):  # a directory removed meanwhile: skipped
        for name in names:
            if not name.startswith("ringside.db"):
                with contextlib.suppress(FileNotFoundError):
                    found.append(pathlib.Path(directory, name).read_bytes())
    return b"".join(found)


def _attached(sdk: openai.OpenAI, store_id: str, name: str, content: bytes, **extra: Any) -> str:
    file_id = sdk.files.create(file=(name, content), purpose="assistants", **extra).id
    sdk.vector_stores.files.create(store_id, file_id=file_id, **extra)
    assert settled(sdk, store_id, file_id, **extra).status == "completed"
    return file_id


def test_an_erased_customer_leaves_no_trace_in_files_indexes_parses_or_query_logs(stack: Stack) -> None:
    key = stack.new_account()["live"]
    sdk = client(stack, key)
    person = _person()
    customer_id = stack.call("POST", "/v1/customers", key, person).json()["id"]
    phrase = f"the lighthouse keeper {secrets.token_hex(5)} counts gulls at dawn"
    as_customer = {"extra_headers": {"FC-Customer": customer_id}}
    store = stack.call(
        "POST", "/v1/vector_stores", key, {"name": person["name"]}, headers={"FC-Customer": customer_id}
    ).json()
    content = f"{person['name']} wrote this. {phrase}. {person['email']}\n".encode()
    _attached(sdk, store["id"], f"{person['external_id']}.txt", content, **as_customer)
    # the account's shared handbook, searched by the customer: its query log row is the customer's
    handbook = stack.call("POST", "/v1/vector_stores", key, {"name": "handbook", "shared": True}).json()
    kept_file = _attached(sdk, handbook["id"], "handbook.txt", b"Refunds are paid within thirty days.\n")
    for store_id in (store["id"], handbook["id"]):
        found = sdk.vector_stores.search(store_id, query=f"{phrase} {person['email']}", **as_customer)
        assert found.data is not None
    sdk.vector_stores.search(handbook["id"], query="how long do refunds take")  # the account's own: kept
    assert phrase.encode() in _data_dir_bytes(stack)  # the test can see what it looks for

    erase = stack.call("POST", f"/v1/customers/{customer_id}/erase", key)
    assert erase.status in (200, 202), erase.body
    wait_until(lambda: stack.call("GET", f"/v1/customers/{customer_id}", key).status == 404, 20, "the erasure")
    traces = [*_traces(person), phrase.encode()]
    deadline = time.monotonic() + GONE_DEADLINE_S
    while (left := [t for t in traces if t in _data_dir_bytes(stack)]) and time.monotonic() < deadline:
        time.sleep(0.5)  # the rag role's sweep removes the bytes, the index and the cached parse
    assert left == []
    assert not any(pathlib.Path(stack.data_dir, "rag", "index").glob(f"{store['id']}--g*"))
    # the account's store, its file and its own query stay; the customer's query of it went
    assert sdk.files.retrieve(kept_file).id == kept_file
    queries = stack.call("GET", f"/v1/vector_stores/{handbook['id']}/queries", key).json()["data"]
    assert [q["query"] for q in queries] == ["how long do refunds take"]
    hits = sdk.vector_stores.search(handbook["id"], query="refund period").data
    assert [hit.file_id for hit in hits] == [kept_file]


def test_deleting_a_file_removes_it_from_every_store_at_once(stack: Stack) -> None:
    sdk = client(stack, stack.new_account()["live"])
    stores = [sdk.vector_stores.create(name=f"store {n}") for n in range(2)]
    file_id = sdk.files.create(
        file=("otters.txt", b"Sea otters hold hands while they sleep.\n"), purpose="assistants"
    ).id
    other = sdk.files.create(file=("bees.txt", b"Honey bees dance to show where flowers are.\n"), purpose="assistants")
    for store in stores:
        for attached in (file_id, other.id):
            sdk.vector_stores.files.create(store.id, file_id=attached)
            assert settled(sdk, store.id, attached).status == "completed"
        assert file_id in {hit.file_id for hit in sdk.vector_stores.search(store.id, query="otters sleeping").data}

    assert sdk.files.delete(file_id).deleted is True
    for store in stores:
        assert [f.id for f in sdk.vector_stores.files.list(store.id)] == [other.id]
        counts = sdk.vector_stores.retrieve(store.id).file_counts
        assert (counts.total, counts.completed) == (1, 1)
        found = sdk.vector_stores.search(store.id, query="otters sleeping", max_num_results=50).data
        assert {hit.file_id for hit in found} == {other.id}
    assert not (stack.data_dir / "files" / file_id[-2:] / file_id).exists()


def test_file_ids_at_create_attach_those_files(stack: Stack) -> None:
    key = stack.new_account()["live"]
    sdk = client(stack, key)
    ids = [
        sdk.files.create(file=(f"note{n}.txt", f"Note {n} is about tide tables.\n".encode()), purpose="assistants").id
        for n in range(2)
    ]
    store = sdk.vector_stores.create(name="with files", file_ids=ids)
    assert store.file_counts.total == 2 and store.status == "in_progress"
    assert all(settled(sdk, store.id, file_id).status == "completed" for file_id in ids)
    assert sorted(f.id for f in sdk.vector_stores.files.list(store.id)) == sorted(ids)
    assert sdk.vector_stores.retrieve(store.id).file_counts.completed == 2

    before = len(stack.call("GET", "/v1/vector_stores?limit=100", key).json()["data"])
    missing = stack.call("POST", "/v1/vector_stores", key, {"file_ids": [ids[0], "file-doesnotexist1"]})
    assert missing.status == 404 and missing.json()["error"]["param"] == "file_id", missing.body
    assert len(stack.call("GET", "/v1/vector_stores?limit=100", key).json()["data"]) == before  # none left
    for body in ({"file_ids": "file-abc12345"}, {"file_ids": ["file-x"] * 501}, {"file_ids": [7]}):
        refused = stack.call("POST", "/v1/vector_stores", key, body)
        assert refused.status == 400 and refused.json()["error"]["param"] == "file_ids", refused.body
    assert stack.call("POST", "/v1/vector_stores", key, {"file_ids": []}).json()["file_counts"]["total"] == 0


def test_the_sweep_removes_stale_partial_uploads_and_bytes_no_file_names(stack: Stack) -> None:
    shard = pathlib.Path(stack.data_dir, "files", "zz")
    shard.mkdir(parents=True, exist_ok=True)
    stale = shard / "file-StaleUpload0zz.partial"
    fresh = shard / "file-FreshUpload0zz.partial"  # an upload still streaming: kept
    orphan = shard / "file-NoRowForThis0zz"  # bytes whose metadata never reached the core
    for path in (stale, fresh, orphan):
        path.write_bytes(b"half an upload")
    os.utime(stale, (HOURS_AGO, HOURS_AGO))
    os.utime(orphan, (HOURS_AGO, HOURS_AGO))
    wait_until(lambda: not stale.exists() and not orphan.exists(), GONE_DEADLINE_S, "the sweep")
    assert fresh.exists()
    fresh.unlink()


def test_the_sweep_removes_the_points_of_a_file_no_longer_attached(stack: Stack) -> None:
    """Points of a file deleted or detached while the rag role was down (the edge could not remove
    them) stay in a live store's index until the sweep asks the core which files are attached there."""
    key = stack.new_account()["live"]
    sdk = client(stack, key)
    store = sdk.vector_stores.create(name="orphans")
    kept = _attached(sdk, store.id, "kept.txt", b"Notes about the orchard and its pear trees.\n")
    metadata = (("x-ringside-internal", stack.internal_token),)
    with grpc.insecure_channel(f"127.0.0.1:{stack.rag_port}") as channel:
        rag = rag_pb2_grpc.RagServiceStub(channel)
        index = rag_pb2.IndexRef(store_id=store.id, generation=0)
        vector = [1.0] + [0.0] * 383
        orphan = rag_pb2.Point(id=str(uuid.uuid4()), vector=vector, file_id="file-GoneWhileDown0", text="left over")
        rag.Upsert(rag_pb2.UpsertRequest(index=index, points=[orphan]), metadata=metadata, timeout=30)

        def files_found() -> set[str]:
            search = rag_pb2.SearchRequest(index=index, vector=vector, max_num_results=50)
            return {hit.file_id for hit in rag.Search(search, metadata=metadata, timeout=30).hits}

        assert "file-GoneWhileDown0" in files_found()
        wait_until(lambda: "file-GoneWhileDown0" not in files_found(), GONE_DEADLINE_S, "the sweep")
        assert files_found() == {kept}  # the attached file's points stay


def _points(file_id: str, count: int) -> list[IndexPoint]:
    return [
        IndexPoint(id=str(uuid.uuid4()), vector=[1.0] + [0.0] * 383, file_id=file_id, chunk_index=n, text=f"chunk {n}")
        for n in range(count)
    ]


async def test_the_sweep_keeps_the_points_of_a_file_attached_between_its_check_and_its_delete(
    stack: Stack, tmp_path: pathlib.Path
) -> None:
    """The race the sweep's fence closes (rag/fence.py): the sweep finds a file's points with no
    attachment, then — before it deletes — the file is attached again and its ingest writes. The
    sweep asks the core again under the file's fence, so it keeps those points (the write waits
    for the fence), while a file still unattached loses its points. A real core answers; the
    index is the embedded engine in a directory of the test's own (the rag role owns the stack's)."""
    sdk = client(stack, stack.new_account()["live"])
    store = sdk.vector_stores.create(name="fenced")
    late = sdk.files.create(file=("late.txt", b"Attached while the sweep looked.\n"), purpose="assistants").id
    stale = sdk.files.create(file=("stale.txt", b"Never attached.\n"), purpose="assistants").id
    name = index_name(store.id, 0)
    writer = threading.Thread(target=lambda: indexes.upsert(name, _points(late, 2)))
    waited: list[bool] = []

    class AttachingMeanwhile(FileFence):
        """Attaches `late` as the sweep closes its fence (after its first check said unattached)."""

        @contextlib.contextmanager
        def holding(self, index: str, file_id: str) -> Iterator[None]:
            with super().holding(index, file_id):
                if file_id == late:
                    sdk.vector_stores.files.create(store.id, file_id=late)  # the core commits the attach
                    writer.start()  # its ingest writes: behind the fence
                    time.sleep(WRITE_WAITS_S)
                    waited.append(writer.is_alive())
                yield

    fence = AttachingMeanwhile()
    indexes = FencedIndexes(open_indexes(path=tmp_path / "index"), fence)
    core = CoreClient(f"127.0.0.1:{stack.grpc_port}", stack.internal_token)
    try:
        indexes.create(name, 384)
        indexes.upsert(name, _points(late, 3) + _points(stale, 3))  # what an earlier attach left
        (tmp_path / "files").mkdir()
        (tmp_path / "parses").mkdir()
        sweeper = Sweeper(core, indexes, LocalFileStore(tmp_path / "files"), tmp_path / "parses", 3600, 60, fence=fence)
        swept = await sweeper.sweep()
        await asyncio.to_thread(writer.join, 30)
        assert waited == [True]  # the ingest's write waited for the sweep's decision
        assert swept.orphan_files == 1  # stale only
        assert indexes.count(name, stale) == 0
        assert indexes.count(name, late) == 5  # the earlier 3 (attached now: a re-ingest replaces them) and 2 new
    finally:
        await core.close()
        indexes.close()
        with contextlib.suppress(openai.NotFoundError):
            sdk.vector_stores.delete(store.id)


def test_a_store_on_openais_embedding_model_ingests_and_searches(stack: Stack) -> None:
    account = stack.new_account()
    sdk = client(stack, account["test"])
    customer_id = stack.call("POST", "/v1/customers", account["test"], {"external_id": "ext_reader"}).json()["id"]
    mine = {"extra_headers": {"FC-Customer": customer_id}}
    store = sdk.vector_stores.create(name="openai", extra_body={"embedding_model": "text-embedding-3-small"}, **mine)
    assert store.model_dump()["embedding_model"] == "fc:openai/text-embedding-3-small"
    texts = {"tides.txt": b"Spring tides follow the full moon and the new moon.\n", "bees.txt": b"Bees make honey.\n"}
    ids = {name: _attached(sdk, store.id, name, content, **mine) for name, content in texts.items()}
    hits = sdk.vector_stores.search(store.id, query="spring tides full moon", **mine).data
    assert hits and hits[0].file_id == ids["tides.txt"]
    usage = stack.call("GET", "/v1/usage?group_by=model", account["test"]).json()["data"]
    row = next(r for r in usage if r["model"] == "fc:openai/text-embedding-3-small")
    assert row["input_tokens"] > 0 and row["request_count"] >= 3  # two ingests and the query

    live = client(stack, account["live"])
    unconfigured = live.vector_stores.create(name="live", extra_body={"embedding_model": "text-embedding-3-small"})
    file_id = live.files.create(file=("tides.txt", texts["tides.txt"]), purpose="assistants").id
    live.vector_stores.files.create(unconfigured.id, file_id=file_id)
    failed = settled(live, unconfigured.id, file_id)
    assert failed.status == "failed" and failed.last_error is not None
    assert failed.last_error.code == "server_error" and "text-embedding-3-small" in failed.last_error.message
