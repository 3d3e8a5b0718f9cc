"""Payload indexes per attribute key (rag/attribute_indexes.py), on both engines: created once per
key and type, persisted across a reopen, bounded, and filters stay correct with them — also on a key
whose values have several types (an index of one type must not hide the points of another)."""

from __future__ import annotations

import pathlib
from collections.abc import Iterator
from typing import Any

import pytest

import rag.index_edge
from rag.attribute_indexes import MAX_INDEXED_KEYS
from rag.chunking import chunk_id
from rag.filters import parse_filter
from rag.index import IndexPoint, VectorIndexes, index_name, open_indexes
from rag.index_edge import EdgeIndexes
from rag.index_qdrant import QdrantIndexes
from tests.rag.test_index import DIMENSIONS, matches, points, unit

NAME = index_name("vs_attrs", 1)
EXPECTED = {"attributes.author": "keyword", "attributes.year": "float", "attributes.rating": "float"}


class Created:
    """Counts the payload indexes an engine is asked to create."""

    def __init__(self) -> None:
        self.calls: list[str] = []


@pytest.fixture(params=["embedded", "qdrant-client"])
def counted(
    request: pytest.FixtureRequest, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[VectorIndexes, Created]]:
    created = Created()
    if request.param == "embedded":
        original = rag.index_edge.create_field_index

        def counting(shard: Any, path: str, schema: str) -> None:
            created.calls.append(path)
            original(shard, path, schema)

        monkeypatch.setattr(rag.index_edge, "create_field_index", counting)
        opened: VectorIndexes = EdgeIndexes(tmp_path / "index")
    else:
        opened = open_indexes(url=":memory:")
        assert isinstance(opened, QdrantIndexes)
        client = opened._client
        original_client = client.create_payload_index

        def counting_client(name: str, path: str, schema: Any, **kwargs: Any) -> Any:
            created.calls.append(path)
            return original_client(name, path, schema, **kwargs)

        monkeypatch.setattr(client, "create_payload_index", counting_client)
    yield opened, created
    opened.close()


def boolean_field(indexes: VectorIndexes) -> tuple[str, str]:
    """Where each engine indexes a boolean attribute (the embedded one on its string shadow)."""
    if isinstance(indexes, EdgeIndexes):
        return "attribute_booleans.public", "keyword"
    return "attributes.public", "bool"


def test_each_attribute_key_is_indexed_once_with_its_type(counted: tuple[VectorIndexes, Created]) -> None:
    indexes, created = counted
    indexes.create(NAME, DIMENSIONS)
    made = points()
    for start in range(0, len(made), 5):  # six batches, the same keys in each
        indexes.upsert(NAME, made[start : start + 5])
    path, kind = boolean_field(indexes)
    assert indexes.attribute_fields(NAME) == {**EXPECTED, path: kind}
    assert sorted(created.calls) == sorted([*EXPECTED, path])  # once each, not once per batch
    indexes.set_attributes(NAME, "file-1", {"author": "ada", "team": "core"})  # a new key at an update
    assert indexes.attribute_fields(NAME)["attributes.team"] == "keyword"
    assert created.calls.count("attributes.team") == 1
    hits = indexes.search(NAME, unit(1), limit=50, filters=parse_filter({"type": "eq", "key": "team", "value": "core"}))
    assert {hit.file_id for hit in hits} == {"file-1"}


def test_another_generation_has_indexes_of_its_own_and_a_dropped_one_starts_over(
    counted: tuple[VectorIndexes, Created],
) -> None:
    indexes, created = counted
    other = index_name("vs_attrs", 2)
    for name in (NAME, other):
        indexes.create(name, DIMENSIONS)
        indexes.upsert(name, points(files=2))
    assert created.calls.count("attributes.author") == 2
    indexes.drop(other)
    indexes.create(other, DIMENSIONS)
    indexes.upsert(other, points(files=2))
    assert created.calls.count("attributes.author") == 3
    assert indexes.attribute_fields(other).keys() >= EXPECTED.keys()


def test_the_embedded_engine_keeps_its_attribute_indexes_across_a_restart(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = EdgeIndexes(tmp_path / "index")
    first.create(NAME, DIMENSIONS)
    first.upsert(NAME, points())
    fields = first.attribute_fields(NAME)
    first.close()
    calls: list[str] = []
    original = rag.index_edge.create_field_index
    monkeypatch.setattr(rag.index_edge, "create_field_index", lambda s, p, k: (calls.append(p), original(s, p, k)))
    reopened = EdgeIndexes(tmp_path / "index")  # a restarted rag role: nothing remembered in memory
    try:
        assert reopened.attribute_fields(NAME) == fields
        reopened.upsert(NAME, points())  # the same keys again: nothing to create
        assert calls == []
        reopened.upsert(NAME, [_point(0, "file-new", {"region": "eu"})])
        assert calls == ["attributes.region"]
    finally:
        reopened.close()


def _point(number: int, file_id: str, attributes: dict[str, Any]) -> IndexPoint:
    return IndexPoint(
        id=chunk_id("vs_attrs", file_id, 1, number),
        vector=unit(number),
        file_id=file_id,
        chunk_index=number,
        text=f"chunk {number}",
        attributes=attributes,
    )


MIXED = {  # one key, four types across the files; and a key only some files have
    "file-s1": {"tag": "red", "n": 1},
    "file-s2": {"tag": "blue", "n": 2.5},
    "file-i": {"tag": 3, "n": "three"},
    "file-f": {"tag": 4.5},
    "file-b": {"tag": True, "n": 7},
    "file-none": {"other": "x"},
}
MIXED_FILTERS = [
    {"type": "eq", "key": "tag", "value": "red"},
    {"type": "ne", "key": "tag", "value": "red"},
    {"type": "eq", "key": "tag", "value": 3},
    {"type": "eq", "key": "tag", "value": 4.5},
    {"type": "gte", "key": "tag", "value": 3},
    {"type": "lt", "key": "tag", "value": 100},
    {"type": "eq", "key": "tag", "value": True},
    {"type": "ne", "key": "tag", "value": True},
    {"type": "in", "key": "tag", "value": ["red", "blue"]},
    {"type": "nin", "key": "tag", "value": ["red"]},
    {"type": "in", "key": "tag", "value": [3, 4]},
    {"type": "eq", "key": "n", "value": "three"},
    {"type": "gt", "key": "n", "value": 2},
    {"type": "in", "key": "n", "value": [1, 7]},
    {
        "type": "or",
        "filters": [{"type": "eq", "key": "tag", "value": "blue"}, {"type": "gt", "key": "tag", "value": 4}],
    },
    {"type": "and", "filters": [{"type": "ne", "key": "tag", "value": "red"}, {"type": "lte", "key": "n", "value": 7}]},
]


ORDERS = {
    "string first": ["file-s1", "file-s2", "file-i", "file-f", "file-b", "file-none"],
    "number first": ["file-i", "file-f", "file-b", "file-none", "file-s1", "file-s2"],
}


@pytest.mark.parametrize("order", list(ORDERS))
@pytest.mark.parametrize("raw", MIXED_FILTERS, ids=lambda raw: str(raw)[:60])
def test_filters_stay_correct_on_a_key_of_mixed_types(
    counted: tuple[VectorIndexes, Created], raw: dict[str, Any], order: str
) -> None:
    indexes, _ = counted
    indexes.create(NAME, DIMENSIONS)
    for number, file_id in enumerate(ORDERS[order]):  # one write per file: the first type seen wins
        indexes.upsert(NAME, [_point(number * 3 + k, file_id, MIXED[file_id]) for k in range(3)])
    expected_kind = "keyword" if order == "string first" else "float"
    assert indexes.attribute_fields(NAME)["attributes.tag"] == expected_kind
    tree = parse_filter(raw)
    expected = {file_id for file_id, attributes in MIXED.items() if matches(tree, attributes)}
    hits = indexes.search(NAME, unit(99), limit=50, filters=tree)
    assert {hit.file_id for hit in hits} == expected


def test_indexed_keys_are_bounded_and_filters_on_the_rest_still_work(counted: tuple[VectorIndexes, Created]) -> None:
    indexes, created = counted
    indexes.create(NAME, DIMENSIONS)
    keys = [f"k{n:02d}" for n in range(MAX_INDEXED_KEYS + 16)]
    for file_number in range(len(keys) // 16):  # 16 keys a file, OpenAI's bound per file
        file_keys = keys[file_number * 16 : (file_number + 1) * 16]
        attributes = {key: f"v{file_number}" for key in file_keys}
        indexes.upsert(NAME, [_point(file_number, f"file-{file_number}", attributes)])
    assert len(indexes.attribute_fields(NAME)) == MAX_INDEXED_KEYS
    assert len(created.calls) == MAX_INDEXED_KEYS
    last = len(keys) // 16 - 1
    unindexed_key = keys[-1]
    assert f"attributes.{unindexed_key}" not in indexes.attribute_fields(NAME)
    hits = indexes.search(
        NAME, unit(1), limit=50, filters=parse_filter({"type": "eq", "key": unindexed_key, "value": f"v{last}"})
    )
    assert {hit.file_id for hit in hits} == {f"file-{last}"}
