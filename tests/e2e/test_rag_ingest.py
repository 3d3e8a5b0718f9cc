"""Attaching files to vector stores and their ingest on the real Temporal dev server, the real
parser (unstructured), the local model and the embedded engine, through the OpenAI SDK: every
listed type ingests with its chunk_count and real file_counts/usage_bytes; corrupt, unsupported
and empty files fail with OpenAI's codes; detach removes the file at once; only the store's owner
reaches its files (404 otherwise); a rag role restarted mid-ingest completes it without
duplicates; the ingest is metered to the store's owner. (Search: test_rag_search.py; file batches
and the CLI: test_rag_file_batches.py.)"""

from __future__ import annotations

import pathlib
import secrets

import openai
import pytest

from tests.e2e.rag_ingest_stack import settled, shared_ingest_stack, upload
from tests.e2e.test_chat_completions import client
from tests.harness import Stack
from tests.rag.documents import every_type, minimal_pdf


@pytest.fixture(scope="module")
def stack(request: pytest.FixtureRequest) -> Stack:
    """On SQLite; on PostgreSQL too for the tests marked `both_backends` (claims, metering). The
    session's, shared with the other rag ingest files."""
    return shared_ingest_stack(request)


def test_every_listed_type_ingests(stack: Stack) -> None:
    key = stack.new_account()["live"]
    sdk = client(stack, key)
    store = sdk.vector_stores.create(name="every type")
    documents = every_type()
    attached = {}
    for document in documents:
        file_id = upload(sdk, document.filename, document.data)
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
    file_id = upload(sdk, filename, content)  # a corrupt file uploads fine
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
    file_id = upload(sdk, "notes.md", b"# Lighthouses\n\nThe keeper trims the wick every evening at dusk.\n")
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
    mine = upload(sdk, "a.txt", b"alice keeps bees on the roof", extra_headers=alice)
    theirs = upload(sdk, "b.txt", b"bob grows tomatoes", extra_headers=bob)
    accounts = upload(sdk, "c.txt", b"the account's handbook")
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
    file_id = upload(sdk, "x.txt", b"some words to index")
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
    file_id = upload(sdk, "long.txt", "\n\n".join(paragraphs).encode())
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
    file_id = upload(
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
    file_id = upload(sdk, "r.txt", b"Refunds take five working days.", extra_headers=as_blocked)
    sdk.vector_stores.files.create(store.id, file_id=file_id, extra_headers=as_blocked)
    done = settled(sdk, store.id, file_id, extra_headers=as_blocked)
    assert done.status == "failed" and done.last_error is not None
    assert "customer_blocked" in done.last_error.message, done.last_error
