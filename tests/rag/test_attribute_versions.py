"""Attribute writes are a compare-and-set on the version the core gives each update (issue 16's lost
update): points written by an ingest carry the version of the attributes they hold, and
`set_attributes(..., version)` writes only over an older one. Each test replays one interleaving
of an ingest's writes, the edge's writes of updates and the ingest's repair after its last batch,
call by call on the real engines — the order is the test's, not the scheduler's."""

from __future__ import annotations

import json
import pathlib
from collections.abc import Iterator

import grpc
import pytest

from rag.chunking import chunk_id
from rag.filters import parse_filter
from rag.index import IndexPoint, VectorIndexes, index_name, open_indexes
from ringside.rag.v1 import rag_pb2, rag_pb2_grpc
from tests.rag.test_index import DIMENSIONS, unit
from tests.rag.test_server import AUTH, rag_metrics_port, rag_port  # noqa: F401 (module fixtures)

NAME = index_name("vs_versions", 1)
FILE = "file-versioned"


@pytest.fixture(params=["embedded", "qdrant-client"])
def indexes(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> Iterator[VectorIndexes]:
    opened = open_indexes(path=tmp_path / "index") if request.param == "embedded" else open_indexes(url=":memory:")
    opened.create(NAME, DIMENSIONS)
    yield opened
    opened.close()


def batch(start: int, attributes: dict[str, str], version: int) -> list[IndexPoint]:
    """Three chunks of the file as an ingest writes them: with the attributes it read at its start."""
    return [
        IndexPoint(
            id=chunk_id("vs_versions", FILE, 1, index),
            vector=unit(index),
            file_id=FILE,
            chunk_index=index,
            text=f"chunk {index}",
            attributes=attributes,
            attributes_version=version,
        )
        for index in range(start, start + 3)
    ]


def labels(indexes: VectorIndexes) -> list[str]:
    """Each chunk's `label` attribute, in chunk order."""
    hits = indexes.search(NAME, unit(0), limit=50)
    return [str(hit.attributes.get("label")) for hit in sorted(hits, key=lambda hit: hit.chunk_index)]


def test_a_late_repair_does_not_undo_a_newer_update(indexes: VectorIndexes) -> None:
    indexes.upsert(NAME, batch(0, {"label": "a"}, 0))  # the ingest's first batch (attach: version 0)
    indexes.set_attributes(NAME, FILE, {"label": "b"}, 1)  # update 1's edge write: on batch 1 only
    indexes.upsert(NAME, batch(3, {"label": "a"}, 0))  # the ingest's last batch: still "a"
    assert labels(indexes) == ["b"] * 3 + ["a"] * 3
    # The ingest re-reads the row (version 1, "b"); then update 2 commits and its edge writes "c" ...
    indexes.set_attributes(NAME, FILE, {"label": "c"}, 2)
    # ... before the ingest's repair with what it read arrives: it must not write "b" back.
    indexes.set_attributes(NAME, FILE, {"label": "b"}, 1)
    assert labels(indexes) == ["c"] * 6
    found = indexes.search(NAME, unit(0), limit=50, filters=parse_filter({"type": "eq", "key": "label", "value": "c"}))
    assert len(found) == 6


def test_a_repair_writes_the_points_an_update_missed(indexes: VectorIndexes) -> None:
    indexes.upsert(NAME, batch(0, {"label": "a"}, 0))
    indexes.set_attributes(NAME, FILE, {"label": "b"}, 1)  # the update, while the ingest still writes
    indexes.upsert(NAME, batch(3, {"label": "a"}, 0))  # written after it, with the old attributes
    indexes.set_attributes(NAME, FILE, {"label": "b"}, 1)  # the ingest's repair: the row's version 1
    assert labels(indexes) == ["b"] * 6


def test_updates_arriving_out_of_order_keep_the_newest(indexes: VectorIndexes) -> None:
    indexes.upsert(NAME, batch(0, {"label": "a"}, 0))
    indexes.set_attributes(NAME, FILE, {"label": "u3"}, 3)
    indexes.set_attributes(NAME, FILE, {"label": "u2"}, 2)  # two edges' writes, the older one last
    assert labels(indexes) == ["u3"] * 3
    indexes.set_attributes(NAME, FILE, {"label": "u4"}, 4)
    assert labels(indexes) == ["u4"] * 3
    indexes.set_attributes(NAME, FILE, {"label": "plain"})  # version 0: unconditional, as before
    assert labels(indexes) == ["plain"] * 3


def test_the_rag_role_passes_the_versions_through(rag_port: int) -> None:  # noqa: F811
    index = rag_pb2.IndexRef(store_id="vs_versions", generation=1)
    with grpc.insecure_channel(f"127.0.0.1:{rag_port}") as channel:
        stub = rag_pb2_grpc.RagServiceStub(channel)
        points = [
            rag_pb2.Point(
                id=point.id,
                vector=[*point.vector, *[0.0] * (384 - DIMENSIONS)],  # the rag role's indexes are 384-d
                file_id=FILE,
                chunk_index=point.chunk_index,
                text=point.text,
                attributes_json=json.dumps({"label": "a"}),
                attributes_version=1,
            )
            for point in batch(0, {}, 0)
        ]
        stub.Upsert(rag_pb2.UpsertRequest(index=index, points=points), metadata=AUTH)

        def set_label(label: str, version: int) -> None:
            request = rag_pb2.SetFileAttributesRequest(
                index=index, file_id=FILE, attributes_json=json.dumps({"label": label}), attributes_version=version
            )
            stub.SetFileAttributes(request, metadata=AUTH)

        def found() -> set[str]:
            search = rag_pb2.SearchRequest(index=index, vector=points[0].vector, max_num_results=10)
            return {json.loads(hit.attributes_json)["label"] for hit in stub.Search(search, metadata=AUTH).hits}

        set_label("old", 1)  # the points hold version 1 already: kept
        assert found() == {"a"}
        set_label("new", 2)
        assert found() == {"new"}
        stub.DropIndex(rag_pb2.DropIndexRequest(index=index), metadata=AUTH)
