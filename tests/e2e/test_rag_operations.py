"""RAG operations (issue 17) on the real Temporal dev server, the rag role (its local model, the
embedded engine, the parse cache) and SQLite and PostgreSQL, through the OpenAI SDK and plain HTTP.

Migrations: searches keep answering during one, each answer from exactly one model's index; the
swap names the new model; a file attached meanwhile is in both indexes; rollback restores the old
index and its results; a second migration is 409; cancel keeps the live index; a SIGKILL of the rag
role mid-migration ends in one completed migration, nothing paid twice. Stuck ingests: one without
progress shows `stalled`, is cancelled and retried; a failed one is retried.

Under a test key `text-embedding-3-small`/`-large` are the test model (deterministic vectors of
1536/3072 dimensions), `fc:local/all-minilm-l6-v2` the real local model (384). Migrating to the
local model is the slow direction (it really computes), so the concurrent checks use it."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from typing import Any

import openai
import pytest

from ringside_server.providers.test_media import TRANSCRIPT, png
from tests.conftest import backend_of
from tests.e2e.rag_ingest_stack import ingest_stack, settled
from tests.e2e.test_chat_completions import client
from tests.harness import Stack, wait_until

LOCAL = "fc:local/all-minilm-l6-v2"
DEADLINE_S = 240.0
# Paragraphs of the large file: each is about one 128-piece chunk of the local model, so the
# migration to it takes a few seconds (long enough to search, attach, be refused and be killed in).
PARAGRAPHS = int(os.environ.get("RINGSIDE_TEST_RAG_MIGRATION_PARAGRAPHS", "80"))
VISION = "fc:openai/gpt-4o-mini"
TRANSCRIPTION = "fc:openai/gpt-4o-mini-transcribe"
STALL_S = 3  # RINGSIDE_RAG_INGEST_STALL_S here: an ingest without progress this long shows `stalled`
TOPICS = ("lighthouse", "orchard", "glacier", "harbour", "vineyard", "observatory", "bakery", "railway")


@pytest.fixture(scope="module")
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """On SQLite; on PostgreSQL too for the tests marked `both_backends` (the swap, exactly once)."""
    backend = backend_of(request)
    work = tmp_path_factory.mktemp(f"rag-operations-{backend}")
    env = {
        "RINGSIDE_RAG_INGEST_STALL_S": str(STALL_S),
        "RINGSIDE_RAG_VISION_MODEL": VISION,
        "RINGSIDE_RAG_TRANSCRIPTION_MODEL": TRANSCRIPTION,
    }
    with ingest_stack(backend, work, env) as running:
        yield running


def large_text(seed: str) -> bytes:
    lines = []
    for n in range(PARAGRAPHS):
        topic = TOPICS[n % len(TOPICS)]
        lines.append(
            f"Section {n} of the {seed} handbook covers the {topic}. The {topic} crew logs entry {n} at dawn, "
            f"checks the {topic} equipment, writes the {topic} report number {n * 7}, and files it with the "
            f"{seed} office before noon; questions about the {topic} go to desk {n % 13} in building {n % 5}. "
            "Every visitor signs the register, wears a badge, and returns borrowed tools by the end of the day."
        )
    return "\n\n".join(lines).encode()


def _store_with_files(sdk: openai.OpenAI, model: str, files: dict[str, bytes]) -> tuple[str, dict[str, str]]:
    store = sdk.vector_stores.create(name="migrating", extra_body={"embedding_model": model})
    ids = {}
    for name, content in files.items():
        file_id = sdk.files.create(file=(name, content), purpose="assistants").id
        sdk.vector_stores.files.create(store.id, file_id=file_id, attributes={"kind": "base"})
        ids[name] = file_id
    for file_id in ids.values():
        assert settled(sdk, store.id, file_id).status == "completed"
    return store.id, ids


def _search(stack: Stack, key: str, store_id: str, query: str, base: bool = False) -> list[tuple[str, str, float]]:
    """The top 5 (file, text, score); `base`: only the files the store was made with."""
    body: dict[str, Any] = {"query": query, "max_num_results": 5}
    if base:
        body["filters"] = {"type": "eq", "key": "kind", "value": "base"}
    answer = stack.call("POST", f"/v1/vector_stores/{store_id}/search", key, body)
    assert answer.status == 200, answer.body
    return [(hit["file_id"], hit["content"][0]["text"], round(hit["score"], 4)) for hit in answer.json()["data"]]


def _migrate(stack: Stack, key: str, store_id: str, model: str) -> dict[str, Any]:
    answer = stack.call("POST", f"/v1/vector_stores/{store_id}/migrate", key, {"embedding_model": model})
    assert answer.status == 200, answer.body
    migration = answer.json()
    assert migration["object"] == "vector_store.migration" and migration["id"].startswith("vsmig_")
    assert migration["status"] == "in_progress" and migration["to_model"] in (model, f"fc:openai/{model}")
    return dict(migration)


def _migration(stack: Stack, key: str, store_id: str, migration_id: str) -> dict[str, Any]:
    answer = stack.call("GET", f"/v1/vector_stores/{store_id}/migrations/{migration_id}", key)
    assert answer.status == 200, answer.body
    return dict(answer.json())


def _finished(stack: Stack, key: str, store_id: str, migration_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + DEADLINE_S
    while True:
        found = _migration(stack, key, store_id, migration_id)
        if found["status"] != "in_progress" or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def _events(stack: Stack, key: str, kind: str) -> list[dict[str, Any]]:
    answer = stack.call("GET", f"/v1/events?type={kind}&limit=100", key)
    assert answer.status == 200, answer.body
    return list(answer.json()["data"])


class Searcher(threading.Thread):
    """Searches the store over and over until stopped, keeping every answer (or failure)."""

    def __init__(self, stack: Stack, key: str, store_id: str, query: str) -> None:
        super().__init__(daemon=True)
        self.args_ = (stack, key, store_id, query)
        self.answers: list[list[tuple[str, str, float]]] = []
        self.failures: list[str] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.answers.append(_search(*self.args_, base=True))
            except AssertionError as error:
                self.failures.append(str(error)[:300])


@pytest.mark.both_backends
def test_migration_answers_throughout_swaps_and_rolls_back(stack: Stack) -> None:
    key = stack.new_account()["test"]
    sdk = client(stack, key)
    files = {"handbook.md": large_text("harbour"), "notes.txt": b"The harbour master raises the blue flag at noon."}
    store_id, _ = _store_with_files(sdk, "text-embedding-3-small", files)
    query = "who raises the blue flag in the harbour"
    before = _search(stack, key, store_id, query, base=True)
    assert before
    searcher = Searcher(stack, key, store_id, query)
    searcher.start()
    try:
        migration = _migrate(stack, key, store_id, LOCAL)
        second = stack.call(
            "POST", f"/v1/vector_stores/{store_id}/migrate", key, {"embedding_model": "text-embedding-3-large"}
        )
        assert second.status == 409 and second.json()["error"]["code"] == "migration_in_progress", second.body
        # attached while the migration runs: its ingest embeds it with both models
        late = sdk.files.create(
            file=("late.md", b"# Kites\n\nThe kite festival opens on the windiest Sunday."), purpose="assistants"
        )
        sdk.vector_stores.files.create(store_id, file_id=late.id)
        done = _finished(stack, key, store_id, migration["id"])
        assert settled(sdk, store_id, late.id).status == "completed"
    finally:
        searcher.stop.set()
        searcher.join(timeout=60)
    assert done["status"] == "completed", done
    assert done["rollback_until"] - done["completed_at"] == 7 * 86_400 and done["rollback_available"]
    assert done["usage"]["embedding_tokens"] > 0 and done["chunks_embedded"] >= PARAGRAPHS // 2
    store = sdk.vector_stores.retrieve(store_id).model_dump()
    assert store["embedding_model"] == LOCAL and store["embedding_model_requested"] == LOCAL
    after = _search(stack, key, store_id, query, base=True)
    assert after and after != before  # another model's vectors: other scores
    assert not searcher.failures, searcher.failures[:3]
    assert len(searcher.answers) >= 3
    mixed = [answer for answer in searcher.answers if answer not in (before, after)]
    assert not mixed, mixed[:2]  # every answer came from exactly one model's index
    assert _search(stack, key, store_id, "when does the kite festival open")[0][0] == late.id  # in the new index
    events = _events(stack, key, "vector_store.migration.completed")
    assert [(e["data"]["id"], e["data"]["to_model"]) for e in events] == [(migration["id"], LOCAL)]
    listed = stack.call("GET", f"/v1/vector_stores/{store_id}/migrations", key).json()
    assert listed["object"] == "list" and [m["id"] for m in listed["data"]] == [migration["id"]]
    assert listed["first_id"] == migration["id"] and listed["has_more"] is False

    rolled = stack.call("POST", f"/v1/vector_stores/{store_id}/migrations/{migration['id']}/rollback", key)
    assert rolled.status == 200 and rolled.json()["status"] == "rolled_back", rolled.body
    restored = sdk.vector_stores.retrieve(store_id).model_dump()
    assert restored["embedding_model"] == "fc:openai/text-embedding-3-small"
    assert restored["embedding_model_requested"] == "text-embedding-3-small"
    assert _search(stack, key, store_id, query, base=True) == before
    assert _search(stack, key, store_id, "when does the kite festival open")[0][0] == late.id  # in the old one too
    again = stack.call("POST", f"/v1/vector_stores/{store_id}/migrations/{migration['id']}/rollback", key)
    assert again.status == 400, again.body


def test_migrate_from_the_local_model_to_another_ref(stack: Stack) -> None:
    key = stack.new_account()["test"]
    sdk = client(stack, key)
    files = {
        "a.md": b"# Bees\n\nThe beekeeper smokes the hive before opening it.",
        "b.txt": b"Trains leave platform 9 hourly.",
    }
    store_id, _ = _store_with_files(sdk, LOCAL, files)
    query = "how does the beekeeper open the hive"
    before = _search(stack, key, store_id, query)
    migration = _migrate(stack, key, store_id, "text-embedding-3-large")
    done = _finished(stack, key, store_id, migration["id"])
    assert done["status"] == "completed" and done["from_model"] == LOCAL, done
    assert done["to_model"] == "fc:openai/text-embedding-3-large" and done["file_counts"]["completed"] == 2
    store = sdk.vector_stores.retrieve(store_id).model_dump()
    assert store["embedding_model"] == "fc:openai/text-embedding-3-large"
    assert store["embedding_model_requested"] == "text-embedding-3-large"
    after = _search(stack, key, store_id, query)
    assert after[0][1].startswith("# Bees") and after != before
    # a file attached now ingests with the store's new model
    new = sdk.files.create(file=("c.md", b"Owls hunt at night over the meadow."), purpose="assistants").id
    sdk.vector_stores.files.create(store_id, file_id=new)
    assert settled(sdk, store_id, new).status == "completed"
    assert _search(stack, key, store_id, "owls hunting at night")[0][0] == new
    cancel = stack.call("POST", f"/v1/vector_stores/{store_id}/migrations/{migration['id']}/cancel", key)
    assert cancel.status == 400, cancel.body  # finished: nothing to cancel
    rolled = stack.call("POST", f"/v1/vector_stores/{store_id}/migrations/{migration['id']}/rollback", key)
    assert rolled.status == 200, rolled.body
    assert _search(stack, key, store_id, query) == before
    assert sdk.vector_stores.retrieve(store_id).model_dump()["embedding_model"] == LOCAL


def test_cancel_keeps_the_live_index(stack: Stack) -> None:
    key = stack.new_account()["test"]
    sdk = client(stack, key)
    store_id, _ = _store_with_files(sdk, "text-embedding-3-small", {"handbook.md": large_text("orchard")})
    query = "questions about the glacier"
    before = _search(stack, key, store_id, query)
    migration = _migrate(stack, key, store_id, LOCAL)
    cancelled = stack.call("POST", f"/v1/vector_stores/{store_id}/migrations/{migration['id']}/cancel", key)
    assert cancelled.status == 200 and cancelled.json()["status"] == "cancelled", cancelled.body
    time.sleep(1.0)  # a workflow already running notices at its next batch, and stops
    assert _migration(stack, key, store_id, migration["id"])["status"] == "cancelled"
    assert sdk.vector_stores.retrieve(store_id).model_dump()["embedding_model"] == "fc:openai/text-embedding-3-small"
    assert _search(stack, key, store_id, query) == before
    assert _events(stack, key, "vector_store.migration.completed") == []
    other = stack.call("GET", f"/v1/vector_stores/{store_id}/migrations/vsmig_nope", key)
    assert other.status == 404, other.body
    stranger = stack.new_account()["test"]  # another account's store is 404 for every migration route
    assert stack.call("GET", f"/v1/vector_stores/{store_id}/migrations", stranger).status == 404
    assert (
        stack.call("POST", f"/v1/vector_stores/{store_id}/migrate", stranger, {"embedding_model": LOCAL}).status == 404
    )
    second = _migrate(stack, key, store_id, LOCAL)  # not 409: the cancelled one no longer runs
    assert _finished(stack, key, store_id, second["id"])["status"] == "completed"


@pytest.mark.both_backends
def test_sigkill_of_the_rag_role_mid_migration_finishes_once(stack: Stack) -> None:
    key = stack.new_account()["test"]
    sdk = client(stack, key)
    content = large_text("railway")
    store_id, _ = _store_with_files(sdk, "text-embedding-3-small", {"handbook.md": content})
    # what embedding the same file with the local model costs, once (another account: its own usage)
    reference_key = stack.new_account()["test"]
    reference_store, _ = _store_with_files(client(stack, reference_key), LOCAL, {"handbook.md": content})
    reference = stack.call("GET", f"/v1/vector_stores/{reference_store}/stats", reference_key).json()
    migration = _migrate(stack, key, store_id, LOCAL)
    deadline = time.monotonic() + DEADLINE_S
    while True:  # a batch or more in, not finished
        now = _migration(stack, key, store_id, migration["id"])
        if now["chunks_embedded"] >= 32:
            break
        assert time.monotonic() < deadline, "the migration never started"
        time.sleep(0.05)
    assert now["status"] == "in_progress", now
    assert stack.rag is not None
    stack.rag.kill()
    stack.rag.wait()
    stack.start_rag()
    done = _finished(stack, key, store_id, migration["id"])
    assert done["status"] == "completed", done
    assert done["chunks_embedded"] == reference["chunk_count"]
    # nothing paid twice: at most what one clean embedding costs (a batch written but not yet settled
    # when the role died is never paid: its hold expires)
    spent = done["usage"]["embedding_tokens"]
    assert reference["ingest_embedding_tokens"] - 32 * 140 <= spent <= reference["ingest_embedding_tokens"]
    events = _events(stack, key, "vector_store.migration.completed")
    assert [e["data"]["id"] for e in events] == [migration["id"]]  # once
    # the migrated index answers exactly as a clean one of the same file and model: no chunk missing,
    # none twice
    for query in ("questions about the observatory", "who signs the register", "report number 140"):
        migrated = [(text, score) for _, text, score in _search(stack, key, store_id, query)]
        clean = [(text, score) for _, text, score in _search(stack, reference_key, reference_store, query)]
        assert migrated == clean and migrated


def _file(stack: Stack, key: str, store_id: str, file_id: str, action: str = "") -> Any:
    method, suffix = ("POST", f"/{action}") if action else ("GET", "")
    return stack.call(method, f"/v1/vector_stores/{store_id}/files/{file_id}{suffix}", key)


def test_a_stuck_ingest_shows_stalled_and_is_cancelled_and_retried(stack: Stack) -> None:
    key = stack.new_account()["test"]
    sdk = client(stack, key)
    store_id = sdk.vector_stores.create(name="stuck").id
    file_id = sdk.files.create(file=("gulls.md", b"Gulls follow the ferry to the island."), purpose="assistants").id
    assert stack.rag is not None
    stack.rag.kill()  # nothing ingests while the rag role is down: the ingest makes no progress
    stack.rag.wait()
    try:
        sdk.vector_stores.files.create(store_id, file_id=file_id)
        fresh = _file(stack, key, store_id, file_id).json()
        assert fresh["status"] == "in_progress" and fresh["stalled"] is False and fresh["last_error"] is None
        time.sleep(STALL_S + 1.5)
        stuck = _file(stack, key, store_id, file_id).json()
        assert stuck["status"] == "in_progress" and stuck["stalled"] is True, stuck
        assert stuck["last_error"]["code"] == "server_error" and "cancel or retry" in stuck["last_error"]["message"]
        listed = stack.call("GET", f"/v1/vector_stores/{store_id}/files", key).json()["data"]
        assert [(f["id"], f["stalled"]) for f in listed] == [(file_id, True)]
        cancelled = _file(stack, key, store_id, file_id, "cancel")
        assert cancelled.status == 200 and cancelled.json()["status"] == "cancelled", cancelled.body
        assert _file(stack, key, store_id, file_id, "cancel").status == 400  # nothing left to stop
        assert sdk.vector_stores.retrieve(store_id).file_counts.cancelled == 1
        retried = _file(stack, key, store_id, file_id, "retry")
        assert retried.status == 200 and retried.json()["status"] == "in_progress", retried.body
        assert retried.json()["stalled"] is False
    finally:
        stack.start_rag()
    assert settled(sdk, store_id, file_id).status == "completed"
    assert _search(stack, key, store_id, "what follows the ferry")[0][0] == file_id
    assert _file(stack, key, store_id, file_id, "retry").status == 400  # completed: nothing to retry
    other = stack.new_account()["test"]  # another account's file is 404
    assert _file(stack, other, store_id, file_id, "cancel").status == 404
    assert _file(stack, other, store_id, file_id, "retry").status == 404


def test_retry_of_a_failed_ingest_runs_it_again(stack: Stack) -> None:
    key = stack.new_account()["test"]
    sdk = client(stack, key)
    store_id = sdk.vector_stores.create(name="failing").id
    file_id = sdk.files.create(file=("empty.txt", b"   "), purpose="assistants").id
    sdk.vector_stores.files.create(store_id, file_id=file_id)
    assert settled(sdk, store_id, file_id).status == "failed"
    retried = _file(stack, key, store_id, file_id, "retry")
    assert retried.status == 200 and retried.json()["status"] == "in_progress" and retried.json()["last_error"] is None
    again = settled(sdk, store_id, file_id)
    assert again.status == "failed" and again.last_error is not None and again.last_error.code == "invalid_file"
    events = _events(stack, key, "vector_store.file.failed")
    assert [e["data"]["id"] for e in events] == [file_id, file_id]  # each run reported once


def test_images_and_audio_are_read_through_the_configured_models_and_metered(stack: Stack) -> None:
    tenant = stack.new_account()
    key = tenant["test"]
    sdk = client(stack, key)
    store_id = sdk.vector_stores.create(name="media").id
    image = sdk.files.create(file=("scan.png", png(b"a scanned notice")), purpose="assistants").id
    audio = sdk.files.create(file=("memo.mp3", b"ID3\x03\x00" + bytes(64_000)), purpose="assistants").id
    for file_id in (image, audio):
        sdk.vector_stores.files.create(store_id, file_id=file_id)
    for file_id in (image, audio):
        done = settled(sdk, store_id, file_id)
        assert done.status == "completed" and done.model_dump()["chunk_count"] >= 1, done.model_dump()
    hits = _search(stack, key, store_id, TRANSCRIPT)
    assert hits[0][0] == audio and TRANSCRIPT in hits[0][1]  # the test model's transcript, indexed
    assert image in {file_id for file_id, _, _ in hits}

    def usage() -> dict[str, Any] | None:
        rows = stack.call("GET", "/v1/usage?group_by=model", key).json()["data"]
        by_model = {row["model"]: row for row in rows}
        return by_model if {VISION, TRANSCRIPTION} <= set(by_model) else None

    rows = wait_until(usage, 10, "the vision and transcription calls to be recorded")
    assert rows[VISION]["request_count"] == 1 and rows[VISION]["input_tokens"] > 0
    assert rows[TRANSCRIPTION]["request_count"] == 1


def test_a_live_keys_image_goes_to_the_configured_provider(stack: Stack) -> None:
    """A live key's image is read by the provider a live call of the vision model reaches — here none
    is configured, so the file fails naming what to configure, before any hold (no usage)."""
    tenant = stack.new_account()
    live = client(stack, tenant["live"])
    store_id = live.vector_stores.create(name="live media").id
    image = live.files.create(file=("scan.png", png(b"a live notice")), purpose="assistants").id
    live.vector_stores.files.create(store_id, file_id=image)
    failed = settled(live, store_id, image)
    assert failed.status == "failed" and failed.last_error is not None, failed.model_dump()
    assert failed.last_error.code == "server_error"
    assert "not configured" in failed.last_error.message and "test key for now" not in failed.last_error.message
    rows = stack.call("GET", "/v1/usage?group_by=model", tenant["live"]).json()["data"]
    assert VISION not in {row["model"] for row in rows}
