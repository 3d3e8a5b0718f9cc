"""Both index implementations — the embedded engine (default) and the Qdrant-server code path
(through qdrant-client's in-process mode, as no server binary installs here) — behave the same."""

from __future__ import annotations

import pathlib
import random
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rag.chunking import chunk_id
from rag.filters import Comparison, Filter, parse_filter
from rag.index import IndexNotFoundError, IndexPoint, VectorIndexes, index_name, open_indexes, store_of_index
from rag.index_edge import EdgeIndexes

DIMENSIONS = 8
AUTHORS = ["ada", "grace", "alan", "edsger"]


def unit(seed: int) -> list[float]:
    vector = np.random.default_rng(seed).normal(size=DIMENSIONS)
    return [float(x) for x in vector / np.linalg.norm(vector)]


def attributes_of(number: int) -> dict[str, Any]:
    attributes: dict[str, Any] = {"author": AUTHORS[number % 4], "year": 2000 + number, "rating": number / 4}
    if number % 3:
        attributes["public"] = number % 2 == 0  # missing on every third point: ne/nin must still match it
    return attributes


def points(store: str = "vs_test", files: int = 6, chunks_per_file: int = 5) -> list[IndexPoint]:
    made = []
    for file_number in range(files):
        for index in range(chunks_per_file):
            number = file_number * chunks_per_file + index
            made.append(
                IndexPoint(
                    id=chunk_id(store, f"file-{file_number}", 1, index),
                    vector=unit(number),
                    file_id=f"file-{file_number}",
                    chunk_index=index,
                    text=f"chunk {index} of file {file_number}",
                    filename=f"doc{file_number}.txt",
                    attributes=attributes_of(file_number),
                )
            )
    return made


@pytest.fixture(params=["embedded", "qdrant-client"])
def indexes(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> Iterator[VectorIndexes]:
    opened = open_indexes(path=tmp_path / "index") if request.param == "embedded" else open_indexes(url=":memory:")
    yield opened
    opened.close()


@pytest.fixture
def filled(indexes: VectorIndexes) -> VectorIndexes:
    name = index_name("vs_test", 1)
    indexes.create(name, DIMENSIONS)
    indexes.upsert(name, points())
    indexes.optimize(name)
    return indexes


NAME = index_name("vs_test", 1)


def test_search_returns_the_nearest_chunks_with_their_payload(filled: VectorIndexes) -> None:
    hits = filled.search(NAME, unit(7), limit=3)
    assert len(hits) == 3
    assert hits[0].id == chunk_id("vs_test", "file-1", 1, 2)
    assert hits[0].score == pytest.approx(1.0, abs=1e-4)
    assert (hits[0].file_id, hits[0].filename, hits[0].chunk_index) == ("file-1", "doc1.txt", 2)
    assert hits[0].text == "chunk 2 of file 1"
    assert hits[0].attributes == attributes_of(1)
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)


def test_score_threshold_drops_weaker_hits(filled: VectorIndexes) -> None:
    hits = filled.search(NAME, unit(7), limit=50, score_threshold=0.99)
    assert [hit.id for hit in hits] == [chunk_id("vs_test", "file-1", 1, 2)]


def test_upsert_is_idempotent_on_point_ids(filled: VectorIndexes) -> None:
    again = points()
    # A retried ingest writes the same ids again, perhaps with fresher text: no duplicate appears.
    again[0] = IndexPoint(**{**again[0].__dict__, "text": "rewritten"})
    filled.upsert(NAME, again)
    assert filled.count(NAME) == 30
    assert filled.search(NAME, unit(0), limit=1)[0].text == "rewritten"


def test_delete_file_removes_its_chunks_from_results(filled: VectorIndexes) -> None:
    filled.delete_file(NAME, "file-1")
    assert filled.count(NAME, "file-1") == 0
    assert filled.count(NAME) == 25
    assert all(hit.file_id != "file-1" for hit in filled.search(NAME, unit(7), limit=50))
    filled.delete_file(NAME, "file-1")  # deleting again is harmless
    assert filled.count(NAME) == 25


def test_set_attributes_replaces_one_files_attributes_for_filters_at_once(filled: VectorIndexes) -> None:
    new = {"author": "barbara", "public": True, "year": 1974}
    filled.set_attributes(NAME, "file-1", new)

    def files(raw: dict[str, Any]) -> set[str]:
        return {hit.file_id for hit in filled.search(NAME, unit(7), limit=50, filters=parse_filter(raw))}

    assert files({"type": "eq", "key": "author", "value": "barbara"}) == {"file-1"}
    assert "file-1" not in files({"type": "eq", "key": "author", "value": "grace"})  # its old value
    assert "file-1" not in files({"type": "gt", "key": "rating", "value": 0})  # a key it no longer has
    assert "file-1" in files({"type": "eq", "key": "public", "value": True})  # booleans (their shadow too)
    assert "file-1" in files({"type": "lt", "key": "year", "value": 1990})
    hits = [hit for hit in filled.search(NAME, unit(7), limit=50) if hit.file_id == "file-1"]
    assert len(hits) == 5 and all(hit.attributes == new for hit in hits)
    assert all(
        hit.attributes == attributes_of(2) for hit in filled.search(NAME, unit(7), limit=50) if hit.file_id == "file-2"
    )
    filled.set_attributes(NAME, "file-1", {})
    assert "file-1" not in files({"type": "eq", "key": "public", "value": True})  # the shadow went too
    with pytest.raises(IndexNotFoundError):
        filled.set_attributes(index_name("vs_test", 9), "file-1", new)


def test_each_generation_is_its_own_index_and_drop_removes_one(filled: VectorIndexes) -> None:
    next_generation = index_name("vs_test", 2)
    filled.create(next_generation, DIMENSIONS)
    assert filled.count(next_generation) == 0
    filled.drop(NAME)
    assert not filled.exists(NAME)
    assert filled.exists(next_generation)
    with pytest.raises(IndexNotFoundError):
        filled.search(NAME, unit(1), limit=1)
    filled.drop(NAME)  # dropping again is harmless


def test_creating_again_keeps_the_points_and_checks_dimensions(filled: VectorIndexes) -> None:
    filled.create(NAME, DIMENSIONS)
    assert filled.count(NAME) == 30


@pytest.mark.parametrize("limit", [0, 51])
def test_search_limit_is_bounded(filled: VectorIndexes, limit: int) -> None:
    with pytest.raises(ValueError, match="limit"):
        filled.search(NAME, unit(1), limit=limit)


def matches(tree: Filter, attributes: dict[str, Any]) -> bool:
    """The meaning of OpenAI's filters, evaluated in Python: the reference the engines must agree with."""
    if not isinstance(tree, Comparison):
        results = [matches(child, attributes) for child in tree.filters]
        return all(results) if tree.type == "and" else any(results)
    present = tree.key in attributes
    value = attributes.get(tree.key)
    if tree.type in ("eq", "ne"):
        # Booleans equal booleans only; numbers compare by value (3 == 3.0), as in JSON.
        equal = present and isinstance(value, bool) == isinstance(tree.value, bool) and value == tree.value
        return equal if tree.type == "eq" else not equal
    if tree.type in ("in", "nin"):
        assert isinstance(tree.value, tuple)
        inside = present and not isinstance(value, bool) and value in tree.value
        return inside if tree.type == "in" else not inside
    if not present or isinstance(value, bool) or not isinstance(value, int | float):
        return False
    bound = float(tree.value)  # type: ignore[arg-type]
    return {"gt": value > bound, "gte": value >= bound, "lt": value < bound, "lte": value <= bound}[tree.type]


comparisons = st.one_of(
    st.builds(
        lambda op, author: {"type": op, "key": "author", "value": author},
        st.sampled_from(["eq", "ne"]),
        st.sampled_from([*AUTHORS, "nobody"]),
    ),
    st.builds(
        lambda op, year: {"type": op, "key": "year", "value": year},
        st.sampled_from(["eq", "ne", "gt", "gte", "lt", "lte"]),
        st.one_of(st.integers(1998, 2008), st.just(2003.0)),
    ),
    st.builds(
        lambda op, rating: {"type": op, "key": "rating", "value": rating},
        st.sampled_from(["gt", "gte", "lt", "lte", "eq", "ne"]),
        st.sampled_from([0, 0.25, 0.5, 1, 1.0, 1.3]),
    ),
    st.builds(
        lambda op, flag: {"type": op, "key": "public", "value": flag}, st.sampled_from(["eq", "ne"]), st.booleans()
    ),
    st.builds(
        lambda op, names: {"type": op, "key": "author", "value": names},
        st.sampled_from(["in", "nin"]),
        st.lists(st.sampled_from(AUTHORS), min_size=1, max_size=3),
    ),
)
filters = st.recursive(
    comparisons,
    lambda children: st.builds(
        lambda op, items: {"type": op, "filters": items},
        st.sampled_from(["and", "or"]),
        st.lists(children, min_size=1, max_size=3),
    ),
    max_leaves=6,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=filters)
def test_attribute_filters_select_what_openais_semantics_say(filled: VectorIndexes, raw: dict[str, Any]) -> None:
    tree = parse_filter(raw)
    expected = {f"file-{number}" for number in range(6) if matches(tree, attributes_of(number))}
    hits = filled.search(NAME, unit(3), limit=50, filters=tree)
    assert {hit.file_id for hit in hits} == expected, raw


@pytest.mark.parametrize(
    ("raw", "files"),
    [
        ({"type": "eq", "key": "rating", "value": 1.0}, {"file-4"}),  # stored as the float 1.0
        ({"type": "eq", "key": "rating", "value": 1}, {"file-4"}),
        ({"type": "eq", "key": "year", "value": 2003.0}, {"file-3"}),  # stored as the integer 2003
        ({"type": "eq", "key": "rating", "value": 0.25}, {"file-1"}),
        ({"type": "eq", "key": "public", "value": False}, {"file-1", "file-5"}),
        ({"type": "ne", "key": "public", "value": True}, {"file-0", "file-1", "file-3", "file-5"}),
    ],
)
def test_numbers_match_by_value_and_booleans_by_truth(
    filled: VectorIndexes, raw: dict[str, Any], files: set[str]
) -> None:
    hits = filled.search(NAME, unit(3), limit=50, filters=parse_filter(raw))
    assert {hit.file_id for hit in hits} == files


def test_one_process_owns_the_embedded_path_and_points_survive_a_reopen(tmp_path: pathlib.Path) -> None:
    root = tmp_path / "index"
    first = EdgeIndexes(root)
    first.create(NAME, DIMENSIONS)
    first.upsert(NAME, points())
    with pytest.raises(RuntimeError, match="another process owns"):
        EdgeIndexes(root)
    first.close()
    reopened = EdgeIndexes(root)
    try:
        assert reopened.count(NAME) == 30
        assert reopened.search(NAME, unit(7), limit=1)[0].file_id == "file-1"
    finally:
        reopened.close()


def test_a_random_workload_agrees_between_the_two_engines(tmp_path: pathlib.Path) -> None:
    embedded, server_path = open_indexes(path=tmp_path / "index"), open_indexes(url=":memory:")
    try:
        rng = random.Random(16)
        for engine in (embedded, server_path):
            engine.create(NAME, DIMENSIONS)
            engine.upsert(NAME, points(files=10))
            engine.delete_file(NAME, "file-4")
            engine.optimize(NAME)
        for _ in range(10):
            query = unit(rng.randrange(10_000))
            assert [hit.id for hit in embedded.search(NAME, query, limit=5)] == [
                hit.id for hit in server_path.search(NAME, query, limit=5)
            ]
    finally:
        embedded.close()
        server_path.close()


def test_names_lists_only_the_indexes_index_name_makes(indexes: VectorIndexes) -> None:
    for name in (index_name("vs_abc", 0), index_name("vs_abc", 2), index_name("vs_other", 1), "handbook--g1"):
        indexes.create(name, 4)
    assert indexes.names() == ["vs_abc--g0", "vs_abc--g2", "vs_other--g1"]  # never another's collection
    assert [store_of_index(name) for name in indexes.names()] == ["vs_abc", "vs_abc", "vs_other"]
    assert store_of_index("handbook--g1") is None and store_of_index("vs_abc--gx") is None
    indexes.drop("vs_abc--g0")
    assert indexes.names() == ["vs_abc--g2", "vs_other--g1"]


def test_file_ids_lists_each_file_with_points_once(filled: VectorIndexes) -> None:
    assert filled.file_ids(NAME) == [f"file-{n}" for n in range(6)]
    filled.delete_file(NAME, "file-2")
    assert "file-2" not in filled.file_ids(NAME) and len(filled.file_ids(NAME)) == 5
    with pytest.raises(IndexNotFoundError):
        filled.file_ids(index_name("vs_test", 9))


def test_unindexed_counts_what_a_search_scans_by_brute_force(indexes: VectorIndexes) -> None:
    indexes.create(NAME, DIMENSIONS)
    indexes.upsert(NAME, points())
    expected = 30 if isinstance(indexes, EdgeIndexes) else 0  # a Qdrant server optimizes by itself
    assert indexes.unindexed(NAME) == expected
