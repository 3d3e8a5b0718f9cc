"""The rag role as a real process (`python -m ringside_cli rag serve`), called over gRPC."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import urllib.request
from collections.abc import Iterator

import grpc
import pytest
from prometheus_client.parser import text_string_to_metric_families

from rag.chunking import chunk_id
from ringside.rag.v1 import rag_pb2, rag_pb2_grpc
from tests.harness import free_port, port_open, start_process, stop_process, wait_until

TOKEN = "rag-test-internal-token-0123456789"
AUTH = (("x-ringside-internal", TOKEN),)
STORE = rag_pb2.IndexRef(store_id="vs_server", generation=1)
DOCUMENTS = {
    "file-tides": "The tides of the bay rise twice a day because the moon pulls the oceans.",
    "file-bread": "Sourdough starter is fed with flour and water once a day before baking.",
    "file-chess": "The Queen's Gambit offers a pawn to take control of the centre of the board.",
}


@pytest.fixture(scope="module")
def rag_metrics_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def rag_port(tmp_path_factory: pytest.TempPathFactory, rag_metrics_port: int) -> Iterator[int]:
    data_dir = tmp_path_factory.mktemp("rag-data")
    port = free_port()
    env = {
        **os.environ,
        "RINGSIDE_DATA_DIR": str(data_dir),
        "RINGSIDE_INTERNAL_TOKEN": TOKEN,
        "RINGSIDE_RAG_METRICS_PORT": str(rag_metrics_port),
    }
    process = start_process(
        [sys.executable, "-m", "ringside_cli", "rag", "serve", "--port", str(port), "--threads", "1"],
        env,
        data_dir / "rag.log",
    )
    try:
        wait_until(lambda: port_open(port) or process.poll() is not None, 60, "the rag role to listen")
        assert process.poll() is None, (data_dir / "rag.log").read_text()[-3000:]
        yield port
    finally:
        stop_process(process)
    assert process.returncode == 0, (data_dir / "rag.log").read_text()[-3000:]
    assert (data_dir / "rag" / "index").is_dir()


@pytest.fixture
def stub(rag_port: int) -> Iterator[rag_pb2_grpc.RagServiceStub]:
    with grpc.insecure_channel(f"127.0.0.1:{rag_port}") as channel:
        yield rag_pb2_grpc.RagServiceStub(channel)


def test_embed_upsert_search_delete_and_drop(stub: rag_pb2_grpc.RagServiceStub) -> None:
    names = list(DOCUMENTS)
    embedded = stub.Embed(rag_pb2.EmbedRequest(texts=[DOCUMENTS[name] for name in names]), metadata=AUTH)
    assert len(embedded.embeddings) == 3 and len(embedded.embeddings[0].values) == 384
    assert embedded.total_tokens == sum(embedded.token_counts) > 0
    points = [
        rag_pb2.Point(
            id=chunk_id(STORE.store_id, name, STORE.generation, 0),
            vector=vector.values,
            file_id=name,
            text=DOCUMENTS[name],
            filename=f"{name}.txt",
            attributes_json=json.dumps({"topic": name.removeprefix("file-"), "year": 2020 + position}),
        )
        for position, (name, vector) in enumerate(zip(names, embedded.embeddings, strict=True))
    ]
    assert stub.Upsert(rag_pb2.UpsertRequest(index=STORE, points=points), metadata=AUTH).upserted == 3
    stub.Upsert(rag_pb2.UpsertRequest(index=STORE, points=points), metadata=AUTH)  # a retry adds nothing

    found = stub.Search(
        rag_pb2.SearchRequest(index=STORE, query="why does the sea go up and down?", max_num_results=3), metadata=AUTH
    )
    assert found.hits[0].file_id == "file-tides"
    assert len(found.hits) == 3 and found.query_tokens > 0
    assert json.loads(found.hits[0].attributes_json) == {"topic": "tides", "year": 2020}

    filtered = stub.Search(
        rag_pb2.SearchRequest(
            index=STORE,
            query="why does the sea go up and down?",
            max_num_results=3,
            filters_json=json.dumps({"type": "gte", "key": "year", "value": 2021}),
            score_threshold=-1.0,
        ),
        metadata=AUTH,
    )
    assert {hit.file_id for hit in filtered.hits} == {"file-bread", "file-chess"}

    stub.DeleteFile(rag_pb2.DeleteFileRequest(index=STORE, file_id="file-tides"), metadata=AUTH)
    after = stub.Search(rag_pb2.SearchRequest(index=STORE, query="tides", max_num_results=10), metadata=AUTH)
    assert {hit.file_id for hit in after.hits} == {"file-bread", "file-chess"}

    stub.DropIndex(rag_pb2.DropIndexRequest(index=STORE), metadata=AUTH)
    with pytest.raises(grpc.RpcError) as raised:
        stub.Search(rag_pb2.SearchRequest(index=STORE, query="tides", max_num_results=1), metadata=AUTH)
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND


def test_calls_without_the_internal_token_are_refused(stub: rag_pb2_grpc.RagServiceStub) -> None:
    for metadata in ((), (("x-ringside-internal", "wrong-token-wrong-token"),)):
        with pytest.raises(grpc.RpcError) as raised:
            stub.Embed(rag_pb2.EmbedRequest(texts=["hello"]), metadata=metadata)
        assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED


@pytest.mark.parametrize(
    "request_",
    [
        rag_pb2.EmbedRequest(texts=[]),
        rag_pb2.EmbedRequest(texts=["  "]),
        rag_pb2.EmbedRequest(texts=["x"], model="fc:openai/text-embedding-3-small"),
        rag_pb2.SearchRequest(index=STORE, query="x", max_num_results=0),
        rag_pb2.SearchRequest(index=STORE, query="x", max_num_results=5, filters_json='{"type": "like"}'),
        rag_pb2.SearchRequest(index=STORE, query="x", max_num_results=5, filters_json="{not json"),
        rag_pb2.SearchRequest(index=rag_pb2.IndexRef(store_id="../etc"), query="x", max_num_results=5),
    ],
)
def test_bad_requests_are_invalid_argument(stub: rag_pb2_grpc.RagServiceStub, request_: object) -> None:
    method = stub.Embed if isinstance(request_, rag_pb2.EmbedRequest) else stub.Search
    with pytest.raises(grpc.RpcError) as raised:
        method(request_, metadata=AUTH)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_the_cli_names_the_rag_command(tmp_path: pathlib.Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "ringside_cli", "rag", "serve", "--help"], capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 0
    assert "--qdrant-url" in completed.stdout


def test_the_metrics_port_counts_calls_by_method_and_code(
    stub: rag_pb2_grpc.RagServiceStub, rag_metrics_port: int
) -> None:
    def count(code: str) -> float:
        text = urllib.request.urlopen(f"http://127.0.0.1:{rag_metrics_port}/metrics", timeout=10).read().decode()
        wanted = {"method": "Embed", "code": code}
        return sum(
            sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == "ringside_grpc_requests_total" and sample.labels == wanted
        )

    before_ok, before_refused = count("OK"), count("UNAUTHENTICATED")
    stub.Embed(rag_pb2.EmbedRequest(texts=["hello"]), metadata=AUTH)
    with pytest.raises(grpc.RpcError):
        stub.Embed(rag_pb2.EmbedRequest(texts=["hello"]), metadata=())
    assert (count("OK"), count("UNAUTHENTICATED")) == (before_ok + 1, before_refused + 1)
