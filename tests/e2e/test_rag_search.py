"""Searching vector stores on the real Temporal dev server, the real parser, the local model and the
embedded engine, through the OpenAI SDK: a paraphrased question finds its file, attribute updates reach
the filters at once, only the store's owner and its customers search it (metered), bounds are
refused with OpenAI's codes, the query log and stats agree with the searches, and the README's
offline walk-through ends in a search page."""

from __future__ import annotations

import json
import pathlib
import secrets
import shlex
import subprocess
from typing import Any

import openai
import pytest

from tests.e2e.rag_ingest_stack import execute, purge_expired, search, settled, shared_ingest_stack, upload
from tests.e2e.test_chat_completions import client
from tests.harness import Stack
from tests.rag.documents import every_type


@pytest.fixture(scope="module")
def stack(request: pytest.FixtureRequest) -> Stack:
    """On SQLite. The session's, shared with the other rag ingest files."""
    return shared_ingest_stack(request)


QUESTIONS = {  # a paraphrased question → the file that answers it (none shares its words much)
    "How often does the sea level in the bay go up each day?": "report.pdf",
    "When should fruit be gathered from the trees?": "deck.pptx",
    "What should I do to stay safe near an erupting mountain?": "guide.md",
    "How do I make a tastier cup of coffee?": "page.html",
    "How are valleys shaped by moving ice?": "notes.txt",
    "Which function adds up the amounts on a bill?": "billing.py",
}


def test_a_paraphrased_question_ranks_the_right_file_first(stack: Stack) -> None:
    key = stack.new_account()["live"]
    sdk = client(stack, key)
    store = sdk.vector_stores.create(name="labelled")
    for document in every_type():
        file_id = upload(sdk, document.filename, document.data)
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
    file_id = upload(sdk, "bees.md", b"# Bees\n\nThe hives on the roof give honey each August.\n", extra_headers=alice)
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
    file_id = upload(sdk, "h.txt", b"Holidays are requested two weeks ahead in the HR portal.")
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


def test_the_query_log_and_stats_agree_with_the_searches(stack: Stack) -> None:
    key = stack.new_account()["live"]
    sdk = client(stack, key)
    alice = stack.call("POST", "/v1/customers", key, {"external_id": "asker_" + secrets.token_hex(4)}).json()["id"]
    store = sdk.vector_stores.create(extra_body={"shared": True}, name="handbook")
    file_id = upload(sdk, "h.txt", b"Holidays are requested two weeks ahead in the HR portal.")
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
