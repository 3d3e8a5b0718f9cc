"""Attaching files to vector stores and their ingest on the real Temporal dev server, the real
parser (unstructured), the local model and the embedded engine, through the OpenAI SDK: every
listed type ingests with its chunk_count and real file_counts/usage_bytes; corrupt, unsupported
and empty files fail with OpenAI's codes; detach removes the file at once; only the store's owner
reaches its files (404 otherwise)."""

from __future__ import annotations

import json
import pathlib
import secrets
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import openai
import pytest

from tests.conftest import backend_of
from tests.e2e.rag_ingest_stack import execute, ingest_stack, purge_expired
from tests.e2e.test_chat_completions import client
from tests.harness import Stack
from tests.rag.documents import every_type, minimal_pdf

INGEST_DEADLINE_S = 120.0


@pytest.fixture(scope="module")
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """On SQLite; on PostgreSQL too for the tests marked `both_backends` (claims, metering)."""
    backend = backend_of(request)
    with ingest_stack(backend, tmp_path_factory.mktemp(f"rag-ingest-{backend}")) as running:
        yield running


def settled(sdk: openai.OpenAI, store_id: str, file_id: str, **extra: Any) -> Any:
    """The store file once its ingest has finished (polled, as a client would)."""
    deadline = time.monotonic() + INGEST_DEADLINE_S
    while True:
        found = sdk.vector_stores.files.retrieve(file_id, vector_store_id=store_id, **extra)
        if found.status != "in_progress" or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def _upload(sdk: openai.OpenAI, name: str, content: bytes, **extra: Any) -> str:
    return sdk.files.create(file=(name, content), purpose="assistants", **extra).id


def test_every_listed_type_ingests(stack: Stack) -> None:
    key = stack.new_account()["live"]
    sdk = client(stack, key)
    store = sdk.vector_stores.create(name="every type")
    documents = every_type()
    attached = {}
    for document in documents:
        file_id = _upload(sdk, document.filename, document.data)
        answer = sdk.vector_stores.files.create(store.id, file_id=file_id, attributes={"name": document.filename})
        assert answer.status == "in_progress" and answer.vector_store_id == store.id
        attached[file_id] = document
    assert sdk.vector_stores.retrieve(store.id).file_counts.total == len(documents)
    for file_id, document in attached.items():
        done = settled(sdk, store.id, file_id)
        raw = done.model_dump()
        assert done.status == "completed", (document.filename, raw)
        assert raw["chunk_count"] >= 1 and done.last_error is None, document.filename
        assert done.usage_bytes == len(document.data) and done.attributes == {"name": document.filename}
    counts = sdk.vector_stores.retrieve(store.id)
    assert counts.file_counts.completed == len(documents) and counts.file_counts.in_progress == 0
    assert counts.usage_bytes == sum(len(d.data) for d in documents) and counts.status == "completed"
    listed = [f.id for f in sdk.vector_stores.files.list(store.id, order="asc")]
    assert listed == sorted(attached)
    events = stack.call("GET", "/v1/events?type=vector_store.file.completed&limit=100", key)
    assert events.status == 200, events.body
    named = [(e["data"]["id"], e["data"]["vector_store_id"]) for e in events.json()["data"]]
    assert sorted(named) == sorted((file_id, store.id) for file_id in attached)  # once per file


@pytest.mark.parametrize(
    ("filename", "content", "code"),
    [
        ("broken.pdf", minimal_pdf(["a truncated document"])[:60], "invalid_file"),
        ("photo.png", b"\x89PNG\r\n\x1a\n" + secrets.token_bytes(64), "unsupported_file"),
        ("song.mp3", b"ID3\x03\x00" + secrets.token_bytes(64), "unsupported_file"),
        ("empty.txt", b"", "invalid_file"),
        ("blank.md", b"   \n\n  ", "invalid_file"),
    ],
    ids=["broken.pdf", "photo.png", "song.mp3", "empty.txt", "blank.md"],  # not random bytes: xdist's workers agree
)
def test_bad_files_fail_with_openai_codes(stack: Stack, filename: str, content: bytes, code: str) -> None:
    key = stack.new_account()["live"]
    sdk = client(stack, key)
    store = sdk.vector_stores.create(name="bad")
    file_id = _upload(sdk, filename, content)  # a corrupt file uploads fine
    sdk.vector_stores.files.create(store.id, file_id=file_id)
    done = settled(sdk, store.id, file_id)
    assert done.status == "failed" and done.last_error is not None, done.model_dump()
    assert done.last_error.code == code and done.last_error.message
    if filename in ("photo.png", "song.mp3"):  # no vision/transcription model here: the message says which setting
        setting = "RINGSIDE_RAG_VISION_MODEL" if filename == "photo.png" else "RINGSIDE_RAG_TRANSCRIPTION_MODEL"
        assert setting in done.last_error.message, done.last_error.message
    assert done.model_dump()["chunk_count"] == 0 and done.usage_bytes == 0
    events = stack.call("GET", "/v1/events?type=vector_store.file.failed", key).json()["data"]
    assert [(e["data"]["id"], e["data"]["last_error"]["code"]) for e in events] == [(file_id, code)]
    assert sdk.vector_stores.retrieve(store.id).file_counts.failed == 1


def test_detach_removes_the_file_at_once_and_reattach_ingests_again(stack: Stack) -> None:
    sdk = client(stack, stack.new_account()["live"])
    store = sdk.vector_stores.create(name="detach")
    file_id = _upload(sdk, "notes.md", b"# Lighthouses\n\nThe keeper trims the wick every evening at dusk.\n")
    sdk.vector_stores.files.create(store.id, file_id=file_id)
    assert settled(sdk, store.id, file_id).status == "completed"
    deleted = sdk.vector_stores.files.delete(file_id, vector_store_id=store.id)
    assert (deleted.id, deleted.deleted, deleted.object) == (file_id, True, "vector_store.file.deleted")
    with pytest.raises(openai.NotFoundError):
        sdk.vector_stores.files.retrieve(file_id, vector_store_id=store.id)
    after = sdk.vector_stores.retrieve(store.id)
    assert after.file_counts.total == 0 and after.usage_bytes == 0
    assert sdk.files.retrieve(file_id).id == file_id  # the file itself stays
    again = sdk.vector_stores.files.create(store.id, file_id=file_id, chunking_strategy={"type": "auto"})
    assert again.status == "in_progress"
    assert settled(sdk, store.id, file_id).status == "completed"


def test_only_the_owner_reaches_a_stores_files(stack: Stack) -> None:
    key = stack.new_account()["live"]
    sdk = client(stack, key)
    refs = []
    for _ in range(2):
        external = "owner_" + secrets.token_hex(4)
        assert stack.call("POST", "/v1/customers", key, {"external_id": external}).status == 201
        refs.append({"FC-Customer": f"ext:{external}"})
    alice, bob = refs
    store = sdk.vector_stores.create(name="alice's", extra_headers=alice)
    mine = _upload(sdk, "a.txt", b"alice keeps bees on the roof", extra_headers=alice)
    theirs = _upload(sdk, "b.txt", b"bob grows tomatoes", extra_headers=bob)
    accounts = _upload(sdk, "c.txt", b"the account's handbook")
    sdk.vector_stores.files.create(store.id, file_id=mine, extra_headers=alice)
    with pytest.raises(openai.NotFoundError):  # bob sees neither the store nor its files
        sdk.vector_stores.files.list(store.id, extra_headers=bob)
    with pytest.raises(openai.NotFoundError):
        sdk.vector_stores.files.retrieve(mine, vector_store_id=store.id, extra_headers=bob)
    with pytest.raises(openai.NotFoundError):
        sdk.vector_stores.files.delete(mine, vector_store_id=store.id, extra_headers=bob)
    with pytest.raises(openai.NotFoundError):  # alice cannot attach bob's file
        sdk.vector_stores.files.create(store.id, file_id=theirs, extra_headers=alice)
    with pytest.raises(openai.BadRequestError):  # the account's file in a customer's store: another owner
        sdk.vector_stores.files.create(store.id, file_id=accounts)
    other = client(stack, stack.new_account()["live"])
    with pytest.raises(openai.NotFoundError):
        other.vector_stores.files.list(store.id)
    assert [f.id for f in sdk.vector_stores.files.list(store.id)] == [mine]  # the account sees it
    assert settled(sdk, store.id, mine, extra_headers=alice).status == "completed"


def test_attach_bounds(stack: Stack) -> None:
    key = stack.new_account()["live"]
    sdk = client(stack, key)
    store = sdk.vector_stores.create(name="bounds")
    file_id = _upload(sdk, "x.txt", b"some words to index")
    path = f"/v1/vector_stores/{store.id}/files"
    too_big = {"max_chunk_size_tokens": 300, "chunk_overlap_tokens": 0}  # above the model's window
    for body in (
        {},
        {"file_id": 7},
        {"file_id": "f" * 101},
        {"file_id": file_id, "unknown": 1},
        {"file_id": file_id, "attributes": {f"k{i}": i for i in range(17)}},
        {"file_id": file_id, "attributes": {"k": "v" * 513}},
        {"file_id": file_id, "attributes": {"k": [1]}},
        {"file_id": file_id, "chunking_strategy": {"type": "static", "static": {"max_chunk_size_tokens": 99}}},
        {"file_id": file_id, "chunking_strategy": {"type": "static", "static": {"max_chunk_size_tokens": 300}}},
        {"file_id": file_id, "chunking_strategy": {"type": "static", "static": too_big}},
    ):
        answer = stack.call("POST", path, key, body)
        assert answer.status == 400, (body, answer.body)
        assert answer.json()["error"]["type"] == "invalid_request_error"
    assert stack.call("POST", path, key, {"file_id": "file-doesnotexist00"}).status == 404
    for query in ("limit=0", "limit=101", "order=up", "filter=done", "after=file-nope0000"):
        assert stack.call("GET", f"{path}?{query}", key).status == 400, query
    assert stack.call("GET", f"{path}/file-doesnotexist00", key).status == 404
    static = {"type": "static", "static": {"max_chunk_size_tokens": 100, "chunk_overlap_tokens": 20}}
    attached = sdk.vector_stores.files.create(store.id, file_id=file_id, chunking_strategy=static)
    assert attached.model_dump()["chunking_strategy"] == static
    assert settled(sdk, store.id, file_id).status == "completed"


@pytest.mark.both_backends
def test_the_rag_role_restarted_mid_ingest_completes_without_duplicates(stack: Stack, tmp_path: pathlib.Path) -> None:
    sdk = client(stack, stack.new_account()["live"])
    store = sdk.vector_stores.create(name="restart")
    # ~40 chunks: more than one embedding batch (32), fewer than one search page (50)
    paragraphs = [f"Paragraph {i} tells of harbour number {i} and its {i * 3} cranes." for i in range(250)]
    file_id = _upload(sdk, "long.txt", "\n\n".join(paragraphs).encode())
    sdk.vector_stores.files.create(store.id, file_id=file_id)
    assert stack.rag is not None
    stack.rag.kill()  # SIGKILL, as soon as the ingest may have begun
    stack.rag.wait()
    stack.start_rag()
    done = settled(sdk, store.id, file_id)
    assert done.status == "completed", done.model_dump()
    chunks = done.model_dump()["chunk_count"]
    assert 32 < chunks <= 50
    # each chunk is in the index once: no position twice, none missing
    assert chunk_indexes(stack, store.id) == list(range(chunks))


def chunk_indexes(stack: Stack, store_id: str) -> list[int]:
    """The chunk positions of the store's points (up to 50), asked of the rag role directly."""
    import asyncio

    from ringside.rag.v1 import rag_pb2
    from ringside_server.rag_client import RagClient

    async def positions() -> list[int]:
        rag = RagClient(f"127.0.0.1:{stack.rag_port}", stack.internal_token)
        try:
            vector = (await rag.call(rag.stub.Embed, rag_pb2.EmbedRequest(texts=["harbour cranes"]), 30.0)).embeddings
            found = await rag.call(
                rag.stub.Search,
                rag_pb2.SearchRequest(
                    index=rag_pb2.IndexRef(store_id=store_id, generation=0),
                    vector=list(vector[0].values),
                    max_num_results=50,
                ),
                30.0,
            )
            return sorted(hit.chunk_index for hit in found.hits)
        finally:
            await rag.close()

    return asyncio.run(positions())


QUESTIONS = {  # a paraphrased question → the file that answers it (none shares its words much)
    "How often does the sea level in the bay go up each day?": "report.pdf",
    "When should fruit be gathered from the trees?": "deck.pptx",
    "What should I do to stay safe near an erupting mountain?": "guide.md",
    "How do I make a tastier cup of coffee?": "page.html",
    "How are valleys shaped by moving ice?": "notes.txt",
    "Which function adds up the amounts on a bill?": "billing.py",
}


def search(stack: Stack, key: str, store_id: str, body: dict[str, Any], **headers: str) -> Any:
    return stack.call("POST", f"/v1/vector_stores/{store_id}/search", key, body, headers=headers)


def test_a_paraphrased_question_ranks_the_right_file_first(stack: Stack) -> None:
    key = stack.new_account()["live"]
    sdk = client(stack, key)
    store = sdk.vector_stores.create(name="labelled")
    for document in every_type():
        file_id = _upload(sdk, document.filename, document.data)
        sdk.vector_stores.files.create(store.id, file_id=file_id, attributes={"name": document.filename})
        assert settled(sdk, store.id, file_id).status == "completed"
    for question, expected in QUESTIONS.items():
        page = sdk.vector_stores.search(store.id, query=question, max_num_results=5)
        assert page.data and page.data[0].filename == expected, (question, [(h.filename, h.score) for h in page.data])
        scores = [hit.score for hit in page.data]
        assert scores == sorted(scores, reverse=True) and len(scores) <= 5
        assert page.data[0].attributes == {"name": expected} and page.data[0].content[0].type == "text"
    raw = search(stack, key, store.id, {"query": "coffee"}).json()
    assert raw["object"] == "vector_store.search_results.page" and raw["search_query"] == ["coffee"]
    assert raw["has_more"] is False and raw["next_page"] is None
    only = {"type": "eq", "key": "name", "value": "guide.md"}
    filtered = sdk.vector_stores.search(store.id, query="coffee", filters=only)  # type: ignore[arg-type]
    assert filtered.data and {hit.filename for hit in filtered.data} == {"guide.md"}
    best = sdk.vector_stores.search(store.id, query="coffee").data[0].score
    strict = sdk.vector_stores.search(store.id, query="coffee", ranking_options={"score_threshold": best + 0.001})
    assert strict.data == []


def test_updating_a_files_attributes_reaches_search_filters_at_once(stack: Stack) -> None:
    """OpenAI's `POST …/files/{file_id} {attributes}` (the SDK's `files.update`): the store file shows
    them and the file's points carry them when it answers (string, number and boolean filters);
    only the store's owner may update (404 otherwise), within OpenAI's bounds."""
    key = stack.new_account()["live"]
    sdk = client(stack, key)
    external = "attrs_" + secrets.token_hex(4)
    assert stack.call("POST", "/v1/customers", key, {"external_id": external}).status == 201
    alice = {"FC-Customer": f"ext:{external}"}
    store = sdk.vector_stores.create(name="attributes", extra_headers=alice)
    file_id = _upload(sdk, "bees.md", b"# Bees\n\nThe hives on the roof give honey each August.\n", extra_headers=alice)
    sdk.vector_stores.files.create(store.id, file_id=file_id, attributes={"team": "red"}, extra_headers=alice)
    assert settled(sdk, store.id, file_id, extra_headers=alice).status == "completed"

    def found(filters: dict[str, Any]) -> set[str]:
        page = sdk.vector_stores.search(store.id, query="honey", filters=filters, extra_headers=alice)  # type: ignore[arg-type]
        return {hit.file_id for hit in page.data}

    assert found({"type": "eq", "key": "team", "value": "red"}) == {file_id}
    new = {"team": "blue", "public": True, "rank": 3}
    updated = sdk.vector_stores.files.update(file_id, vector_store_id=store.id, attributes=new, extra_headers=alice)
    assert (updated.object, updated.id, updated.status, updated.attributes) == (
        "vector_store.file",
        file_id,
        "completed",
        new,
    )
    assert found({"type": "eq", "key": "team", "value": "blue"}) == {file_id}  # no wait: at once
    assert found({"type": "eq", "key": "team", "value": "red"}) == set()
    assert found({"type": "eq", "key": "public", "value": True}) == {file_id}
    assert found({"type": "gte", "key": "rank", "value": 3}) == {file_id}
    page = sdk.vector_stores.search(store.id, query="honey", extra_headers=alice)
    assert page.data and all(hit.attributes == new for hit in page.data)
    assert sdk.vector_stores.files.retrieve(file_id, vector_store_id=store.id, extra_headers=alice).attributes == new
    bob = "other_" + secrets.token_hex(4)
    assert stack.call("POST", "/v1/customers", key, {"external_id": bob}).status == 201
    other_account = client(stack, stack.new_account()["live"])
    for attempt in (
        lambda: sdk.vector_stores.files.update(
            file_id, vector_store_id=store.id, attributes={"team": "x"}, extra_headers={"FC-Customer": f"ext:{bob}"}
        ),
        lambda: other_account.vector_stores.files.update(file_id, vector_store_id=store.id, attributes={"team": "x"}),
        lambda: sdk.vector_stores.files.update("file-doesnotexist00", vector_store_id=store.id, attributes={}),
    ):
        with pytest.raises(openai.NotFoundError):
            attempt()
    path = f"/v1/vector_stores/{store.id}/files/{file_id}"
    for body in (
        {},
        {"attributes": {"team": "x"}, "unknown": 1},
        {"attributes": {f"k{i}": i for i in range(17)}},
        {"attributes": {"k" * 65: 1}},
        {"attributes": {"k": "v" * 513}},
        {"attributes": {"k": [1]}},
        {"attributes": "team=x"},
    ):
        answer = stack.call("POST", path, key, body)
        assert answer.status == 400, (body, answer.body)
        assert answer.json()["error"]["param"] in ("attributes", "unknown"), answer.body
    assert found({"type": "eq", "key": "team", "value": "blue"}) == {file_id}  # nothing refused changed them
    bounds = {**{f"k{i}": i for i in range(15)}, "s" * 64: "v" * 512}  # OpenAI's limits: allowed
    assert sdk.vector_stores.files.update(file_id, vector_store_id=store.id, attributes=bounds).attributes == bounds
    assert found({"type": "eq", "key": "s" * 64, "value": "v" * 512}) == {file_id}


def test_search_visibility_and_metering(stack: Stack) -> None:
    key = stack.new_account()["live"]
    sdk = client(stack, key)
    refs = []
    for _ in range(2):
        external = "reader_" + secrets.token_hex(4)
        assert stack.call("POST", "/v1/customers", key, {"external_id": external}).status == 201
        refs.append(f"ext:{external}")
    alice, bob = refs
    mine = sdk.vector_stores.create(name="alice's", extra_headers={"FC-Customer": alice})
    shared = sdk.vector_stores.create(extra_body={"shared": True}, name="handbook")
    private = sdk.vector_stores.create(name="private")
    file_id = _upload(sdk, "h.txt", b"Holidays are requested two weeks ahead in the HR portal.")
    sdk.vector_stores.files.create(shared.id, file_id=file_id)
    assert settled(sdk, shared.id, file_id).status == "completed"
    question = {"query": "How do I ask for time off?"}
    assert search(stack, key, mine.id, question, **{"FC-Customer": alice}).status == 200  # empty store: no hits
    assert search(stack, key, mine.id, question, **{"FC-Customer": bob}).status == 404
    assert search(stack, key, private.id, question, **{"FC-Customer": alice}).status == 404
    other = stack.new_account()["live"]
    assert search(stack, other, shared.id, question).status == 404
    assert search(stack, key, "vs_doesnotexist", question).status == 404
    answered = search(stack, key, shared.id, question, **{"FC-Customer": alice})
    assert answered.status == 200 and answered.json()["data"][0]["file_id"] == file_id
    state = stack.call("GET", f"/v1/customers/{alice}", key).json()  # the asker pays for the query
    assert state["request_count_mtd"] == 2
    assert stack.call("GET", f"/v1/customers/{bob}", key).json()["request_count_mtd"] == 0


def test_search_bounds(stack: Stack) -> None:
    key = stack.new_account()["live"]
    store = client(stack, key).vector_stores.create(name="bounds")
    for body, param in (
        ({}, "query"),
        ({"query": ""}, "query"),
        ({"query": []}, "query"),
        ({"query": [7]}, "query"),
        ({"query": ["q"] * 11}, "query"),
        ({"query": "q" * 4097}, "query"),
        ({"query": "q", "max_num_results": 0}, "max_num_results"),
        ({"query": "q", "max_num_results": 51}, "max_num_results"),
        ({"query": "q", "max_num_results": "5"}, "max_num_results"),
        ({"query": "q", "ranking_options": {"score_threshold": 2}}, "ranking_options"),
        ({"query": "q", "ranking_options": {"ranker": "best"}}, "ranking_options"),
        ({"query": "q", "filters": "name = x"}, "filters"),
        ({"query": "q", "filters": {"type": "near", "key": "k", "value": 1}}, "filters"),
        ({"query": "q", "unknown": True}, "unknown"),
    ):
        answer = search(stack, key, store.id, body)
        assert answer.status == 400, (body, answer.body)
        assert answer.json()["error"]["param"] == param, (body, answer.body)


def test_file_batches(stack: Stack) -> None:
    key = stack.new_account()["live"]
    sdk = client(stack, key)
    store = sdk.vector_stores.create(name="batch")
    texts = [f"Batch document {i} is about river {i} and its bridges." for i in range(3)]
    ids = [_upload(sdk, f"b{i}.txt", text.encode()) for i, text in enumerate(texts)]
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
    plums = _upload(sdk, "plums.txt", b"Plums ripen in late summer on the south wall.\n")
    figs = _upload(sdk, "figs.txt", b"Figs need a warm sheltered corner to fruit.\n")
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
    ids = [_upload(sdk, f"long{i}.txt", long_text + str(i).encode()) for i in range(4)]
    batch = sdk.vector_stores.file_batches.create(store.id, file_ids=ids)
    cancelled = sdk.vector_stores.file_batches.cancel(batch.id, vector_store_id=store.id)
    counts = cancelled.file_counts
    assert counts.total == 4 and counts.in_progress == 0 and counts.cancelled >= 1, counts
    assert cancelled.status == "cancelled"
    statuses = {settled(sdk, store.id, file_id).status for file_id in ids}
    assert statuses <= {"completed", "cancelled"} and "cancelled" in statuses
    assert sdk.vector_stores.retrieve(store.id).file_counts.cancelled == counts.cancelled


def test_the_query_log_and_stats_agree_with_the_searches(stack: Stack) -> None:
    key = stack.new_account()["live"]
    sdk = client(stack, key)
    alice = stack.call("POST", "/v1/customers", key, {"external_id": "asker_" + secrets.token_hex(4)}).json()["id"]
    store = sdk.vector_stores.create(extra_body={"shared": True}, name="handbook")
    file_id = _upload(sdk, "h.txt", b"Holidays are requested two weeks ahead in the HR portal.")
    sdk.vector_stores.files.create(store.id, file_id=file_id)
    chunks = settled(sdk, store.id, file_id).model_dump()["chunk_count"]
    asked = [
        ({"query": "How do I ask for time off?"}, {}),
        ({"query": "quantum chromodynamics", "ranking_options": {"score_threshold": 0.99}}, {}),  # nothing found
        ({"query": "holiday requests"}, {"FC-Customer": alice}),  # a customer searching the shared store
    ]
    counts = []
    for body, headers in asked:
        answer = search(stack, key, store.id, body, **headers)
        assert answer.status == 200, answer.body
        counts.append(len(answer.json()["data"]))
    assert counts[0] >= 1 and counts[1] == 0 and counts[2] >= 1
    assert search(stack, key, store.id, {"query": "x", "filters": {"type": "near"}}).status == 400  # not logged

    logged = stack.call("GET", f"/v1/vector_stores/{store.id}/queries", key)
    assert logged.status == 200, logged.body
    rows = logged.json()["data"]
    assert [r["query"] for r in rows] == [body["query"] for body, _ in reversed(asked)]  # newest first
    assert [r["result_count"] for r in rows] == list(reversed(counts))
    assert [r["customer_id"] for r in rows] == [alice, None, None]
    assert rows[0]["top_file_ids"] == [file_id] and rows[1]["top_file_ids"] == []
    assert all(r["latency_ms"] >= 0 and r["embedding_tokens"] > 0 and r["object"] == "vector_store.query" for r in rows)
    page = stack.call("GET", f"/v1/vector_stores/{store.id}/queries?limit=1&after={rows[0]['id']}", key).json()
    assert [r["id"] for r in page["data"]] == [rows[1]["id"]] and page["has_more"] is True
    customer_view = stack.call("GET", f"/v1/vector_stores/{store.id}/queries", key, headers={"FC-Customer": alice})
    assert customer_view.status == 404  # a shared store's log is the account's

    stats = stack.call("GET", f"/v1/vector_stores/{store.id}/stats?window=7d", key).json()
    assert stats["query_count"] == 3 and stats["window"] == "7d"
    assert abs(stats["zero_result_rate"] - 1 / 3) < 1e-9
    assert stats["top_files"] == [{"file_id": file_id, "count": 2}]
    assert stats["latency_p50_ms"] == sorted(r["latency_ms"] for r in rows)[1]
    assert stats["latency_p95_ms"] == max(r["latency_ms"] for r in rows)
    assert stats["file_counts"]["completed"] == 1 and stats["chunk_count"] == chunks
    assert stats["query_embedding_tokens"] == sum(r["embedding_tokens"] for r in rows)
    assert stats["ingest_embedding_tokens"] > chunks  # each chunk's word pieces, [CLS] and [SEP] included
    for window in ("1h", "24", "all"):
        assert stack.call("GET", f"/v1/vector_stores/{store.id}/stats?window={window}", key).status == 400

    oldest = rows[-1]["id"]
    execute(stack, "UPDATE vector_store_queries SET created = created - ? WHERE id = ?", 31 * 86_400, oldest)
    purge_expired(stack)
    kept = stack.call("GET", f"/v1/vector_stores/{store.id}/queries", key).json()["data"]
    assert [r["id"] for r in kept] == [r["id"] for r in rows[:-1]]


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


def test_the_readme_rag_curls_work_offline_with_the_test_key(stack: Stack, tmp_path: pathlib.Path) -> None:
    readme = (pathlib.Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = readme.split("Managed RAG, offline with the test key", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    script = block.replace("http://127.0.0.1:8080", stack.base_url)
    env = {"PATH": "/usr/bin:/bin", "KEY": stack.new_account()["test"]}
    ran = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", f"timeout 120 bash -c {shlex.quote(script)}"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    start = ran.stdout.rfind('{"object":"vector_store.search_results.page"')  # curl prints no newlines
    assert start >= 0, ran.stdout
    page, _ = json.JSONDecoder().raw_decode(ran.stdout, start)
    assert page["object"] == "vector_store.search_results.page"
    assert page["data"][0]["filename"] == "holidays.md"


@pytest.mark.both_backends
def test_ingest_is_metered_to_the_stores_owner_and_refused_like_a_call(stack: Stack) -> None:
    key = stack.new_account()["live"]
    sdk = client(stack, key)
    refs = []
    for _ in range(2):
        made = stack.call("POST", "/v1/customers", key, {"external_id": "payer_" + secrets.token_hex(4)})
        refs.append(made.json()["id"])
    payer, blocked = refs
    store = sdk.vector_stores.create(name="metered", extra_headers={"FC-Customer": payer})
    file_id = _upload(
        sdk, "m.txt", b"Invoices are issued on the first day of each month.", extra_headers={"FC-Customer": payer}
    )
    sdk.vector_stores.files.create(store.id, file_id=file_id)  # attached by the account: the owner pays
    assert settled(sdk, store.id, file_id).status == "completed"
    state = stack.call("GET", f"/v1/customers/{payer}", key).json()
    assert state["request_count_mtd"] == 1  # one admitted embedding call for the file
    usage = stack.call("GET", "/v1/usage?group_by=model", key).json()["data"]
    rows = [row for row in usage if row["model"] == "fc:local/all-minilm-l6-v2"]
    assert rows and rows[0]["input_tokens"] > 10 and rows[0]["request_count"] == 1

    assert stack.call("PATCH", f"/v1/customers/{blocked}", key, {"blocked": True}).status == 200
    as_blocked = {"FC-Customer": blocked}
    store = sdk.vector_stores.create(name="refused", extra_headers=as_blocked)
    file_id = _upload(sdk, "r.txt", b"Refunds take five working days.", extra_headers=as_blocked)
    sdk.vector_stores.files.create(store.id, file_id=file_id, extra_headers=as_blocked)
    done = settled(sdk, store.id, file_id, extra_headers=as_blocked)
    assert done.status == "failed" and done.last_error is not None
    assert "customer_blocked" in done.last_error.message, done.last_error
