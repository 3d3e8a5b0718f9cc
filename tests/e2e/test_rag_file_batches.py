"""File batches into vector stores on the real Temporal dev server, the real parser, the local model and
the embedded engine, through the OpenAI SDK: a batch ingests every file, each with its own attributes and
chunking, a cancelled batch stops; the CLI ingests a directory and resumes where it stopped."""

from __future__ import annotations

import pathlib
import secrets
import subprocess
import sys

import pytest

from tests.e2e.rag_ingest_stack import settled, shared_ingest_stack, upload
from tests.e2e.test_chat_completions import client
from tests.harness import Stack


@pytest.fixture(scope="module")
def stack(request: pytest.FixtureRequest) -> Stack:
    """On SQLite. The session's, shared with the other rag ingest files."""
    return shared_ingest_stack(request)


def test_file_batches(stack: Stack) -> None:
    key = stack.new_account()["live"]
    sdk = client(stack, key)
    store = sdk.vector_stores.create(name="batch")
    texts = [f"Batch document {i} is about river {i} and its bridges." for i in range(3)]
    ids = [upload(sdk, f"b{i}.txt", text.encode()) for i, text in enumerate(texts)]
    batch = sdk.vector_stores.file_batches.create(store.id, file_ids=ids, attributes={"source": "batch"})
    assert batch.id.startswith("vsfb_") and batch.object == "vector_store.files_batch"
    assert batch.status == "in_progress" and batch.file_counts.total == 3 and batch.vector_store_id == store.id
    for file_id in ids:
        assert settled(sdk, store.id, file_id).status == "completed"
    done = sdk.vector_stores.file_batches.retrieve(batch.id, vector_store_id=store.id)
    assert done.status == "completed" and done.file_counts.completed == 3
    listed = sdk.vector_stores.file_batches.list_files(batch.id, vector_store_id=store.id, order="asc")
    assert [f.id for f in listed] == sorted(ids) and all(f.attributes == {"source": "batch"} for f in listed)
    cancelled = sdk.vector_stores.file_batches.cancel(batch.id, vector_store_id=store.id)
    assert cancelled.file_counts.completed == 3  # nothing left in progress: nothing to cancel

    path = f"/v1/vector_stores/{store.id}/file_batches"
    too_many = stack.call("POST", path, key, {"file_ids": [f"file-{i:020d}" for i in range(501)]})
    assert too_many.status == 400 and too_many.json()["error"]["param"] == "file_ids"  # before any lookup
    for body in ({"file_ids": []}, {"file_ids": "x"}, {"file_ids": [7]}, {"file_ids": ids, "extra": 1}):
        assert stack.call("POST", path, key, body).status == 400, body
    missing = stack.call("POST", path, key, {"file_ids": [ids[0], "file-doesnotexist00"]})
    assert missing.status == 404  # all or none: nothing attached by a refused batch
    assert stack.call("GET", f"{path}/vsfb_nope", key).status == 404
    other = stack.new_account()["live"]
    assert stack.call("GET", f"{path}/{batch.id}", other).status == 404


def test_a_file_batch_of_files_each_with_its_attributes_and_chunking(stack: Stack) -> None:
    """OpenAI's newer `files: [{file_id, attributes?, chunking_strategy?}]` shape (mutually exclusive
    with file_ids; the top-level attributes are then ignored)."""
    key = stack.new_account()["live"]
    sdk = client(stack, key)
    store = sdk.vector_stores.create(name="files shape")
    plums = upload(sdk, "plums.txt", b"Plums ripen in late summer on the south wall.\n")
    figs = upload(sdk, "figs.txt", b"Figs need a warm sheltered corner to fruit.\n")
    static = {"type": "static", "static": {"max_chunk_size_tokens": 100, "chunk_overlap_tokens": 0}}
    batch = sdk.vector_stores.file_batches.create(
        store.id,
        files=[
            {"file_id": plums, "attributes": {"fruit": "plum", "year": 2024}},
            {"file_id": figs, "attributes": {"fruit": "fig"}, "chunking_strategy": static},
        ],
        attributes={"ignored": True},
    )
    assert batch.file_counts.total == 2
    for file_id in (plums, figs):
        assert settled(sdk, store.id, file_id).status == "completed"
    listed = {f.id: f for f in sdk.vector_stores.file_batches.list_files(batch.id, vector_store_id=store.id)}
    assert listed[plums].attributes == {"fruit": "plum", "year": 2024}
    assert listed[figs].attributes == {"fruit": "fig"}
    assert listed[figs].chunking_strategy.model_dump() == static
    assert listed[plums].chunking_strategy.model_dump() != static  # the store's default
    found = sdk.vector_stores.search(store.id, query="fruit", filters={"type": "eq", "key": "fruit", "value": "fig"})
    assert [hit.file_id for hit in found.data] == [figs]  # the points carry each file's own attributes

    path = f"/v1/vector_stores/{store.id}/file_batches"
    for body, param in (
        ({"file_ids": [plums], "files": [{"file_id": figs}]}, "file_ids"),
        ({"attributes": {"a": "b"}}, "file_ids"),
        ({"files": []}, "files"),
        ({"files": [{"file_id": f"file-{i:020d}"} for i in range(501)]}, "files"),
        ({"files": [{"file_id": plums, "extra": 1}]}, "files"),
        ({"files": [{"attributes": {}}]}, "files"),
        ({"files": [{"file_id": plums, "attributes": "x"}]}, "attributes"),
        ({"files": [{"file_id": plums, "chunking_strategy": {"type": "nope"}}]}, "chunking_strategy"),
    ):
        answer = stack.call("POST", path, key, body)
        assert answer.status == 400 and answer.json()["error"]["param"] == param, (body, answer.body)
    assert stack.call("POST", path, key, {"files": [{"file_id": "file-doesnotexist00"}]}).status == 404


def test_cancelling_a_batch(stack: Stack) -> None:
    key = stack.new_account()["live"]
    sdk = client(stack, key)
    store = sdk.vector_stores.create(name="cancel")
    long_text = "\n\n".join(f"Line {i} of a long ledger about shipping lane {i}." for i in range(3000)).encode()
    ids = [upload(sdk, f"long{i}.txt", long_text + str(i).encode()) for i in range(4)]
    batch = sdk.vector_stores.file_batches.create(store.id, file_ids=ids)
    cancelled = sdk.vector_stores.file_batches.cancel(batch.id, vector_store_id=store.id)
    counts = cancelled.file_counts
    assert counts.total == 4 and counts.in_progress == 0 and counts.cancelled >= 1, counts
    assert cancelled.status == "cancelled"
    statuses = {settled(sdk, store.id, file_id).status for file_id in ids}
    assert statuses <= {"completed", "cancelled"} and "cancelled" in statuses
    assert sdk.vector_stores.retrieve(store.id).file_counts.cancelled == counts.cancelled


def test_the_cli_ingests_a_directory_and_resumes(stack: Stack, tmp_path: pathlib.Path) -> None:
    key = stack.new_account()["live"]
    sdk = client(stack, key)
    external = "cli_" + secrets.token_hex(4)
    assert stack.call("POST", "/v1/customers", key, {"external_id": external}).status == 201
    as_customer = {"FC-Customer": f"ext:{external}"}
    store = sdk.vector_stores.create(name="cli", extra_headers=as_customer)
    docs = tmp_path / "docs"
    (docs / "nested").mkdir(parents=True)
    (docs / "a.md").write_bytes(b"# Ferries\n\nThe ferry leaves the harbour every hour.")
    (docs / "nested" / "b.txt").write_bytes(b"Lanterns are lit at dusk on the pier.")
    (docs / "c.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 32)  # unsupported: fails its ingest
    (docs / ".hidden").write_bytes(b"skipped")
    state = tmp_path / "state.json"

    def ingest() -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "ringside_cli", "rag", "ingest", str(docs), "--store", store.id]
        command += ["--customer", f"ext:{external}", "--api-key", key, "--base-url", stack.base_url]
        command += ["--state", str(state), "--concurrency", "2"]
        return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)

    first = ingest()
    assert first.returncode == 1, first.stdout + first.stderr  # one file failed
    assert "2 completed, 1 failed (3 files)" in first.stdout, first.stdout
    assert "unsupported_file" in first.stderr
    files = sdk.vector_stores.files.list(store.id, extra_headers=as_customer)
    assert sorted(f.status for f in files) == ["completed", "completed", "failed"]
    uploaded = len(sdk.files.list(extra_headers=as_customer).data)
    (docs / "d.txt").write_bytes(b"Gulls nest on the breakwater in spring.")
    again = ingest()  # resumes: only the new file is sent
    assert "3 completed, 1 failed (4 files)" in again.stdout, again.stdout + again.stderr
    assert len(sdk.files.list(extra_headers=as_customer).data) == uploaded + 1
