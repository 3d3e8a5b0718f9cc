"""Chunks never exceed the model's window in its own tokenizer, cover the whole text, and have
stable ids; strategies follow OpenAI's bounds."""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rag.chunking import Chunker, ChunkingStrategy, chunk_id, resolve_strategy
from rag.embedder import TEXT_WINDOW_TOKENS, load_tokenizer
from rag.errors import InvalidRequestError

LOCAL_WINDOW_TOKENS = TEXT_WINDOW_TOKENS
CHUNKER = Chunker(load_tokenizer())

words = st.one_of(
    st.sampled_from(["river", "embeddings", "tokenisation", "naïve", "東京", "don't", "3.14", "x" * 40, "—", "\n\n"]),
    st.text(min_size=1, max_size=12),
)
texts = st.lists(words, max_size=400).map(" ".join)
sizes = st.integers(min_value=2, max_value=LOCAL_WINDOW_TOKENS).flatmap(
    lambda size: st.tuples(st.just(size), st.integers(min_value=0, max_value=size // 2))
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=texts, size_and_overlap=sizes)
def test_chunks_fit_the_window_and_cover_the_text(text: str, size_and_overlap: tuple[int, int]) -> None:
    size, overlap = size_and_overlap
    chunks = CHUNKER.chunk(text, ChunkingStrategy("static", size, overlap))
    assert [chunk.index for chunk in chunks] == list(range(len(chunks)))
    for chunk in chunks:
        assert 0 < chunk.token_count <= size
        assert CHUNKER.count_tokens(chunk.text) == chunk.token_count
        assert chunk.text in text
    # Every token of the text lies in some chunk: nothing is dropped between two chunks.
    covered = "".join(chunk.text for chunk in chunks)
    for token in re.findall(r"\w+", text):
        assert token in covered
    if CHUNKER.count_tokens(text) == 0:
        assert chunks == []


@settings(max_examples=40, deadline=None)
@given(text=texts)
def test_chunking_is_deterministic(text: str) -> None:
    strategy = ChunkingStrategy("static", 128, 32)
    assert CHUNKER.chunk(text, strategy) == CHUNKER.chunk(text, strategy)


def test_overlap_repeats_the_end_of_the_previous_chunk() -> None:
    text = " ".join(f"word{number}" for number in range(600))
    chunks = CHUNKER.chunk(text, ChunkingStrategy("static", 100, 40))
    assert len(chunks) > 3
    for previous, following in itertools.pairwise(chunks):
        tail = previous.text.split()[-5:]
        assert " ".join(tail) in following.text
    no_overlap = CHUNKER.chunk(text, ChunkingStrategy("static", 100, 0))
    assert len(no_overlap) < len(chunks)


@settings(max_examples=60)
@given(
    store=st.text(min_size=1, max_size=20),
    file=st.text(min_size=1, max_size=20),
    generation=st.integers(0, 10**6),
    index=st.integers(0, 10**6),
)
def test_chunk_ids_are_stable_and_distinct_per_place(store: str, file: str, generation: int, index: int) -> None:
    assert chunk_id(store, file, generation, index) == chunk_id(store, file, generation, index)
    assert chunk_id(store, file, generation, index) != chunk_id(store, file, generation, index + 1)
    assert chunk_id(store, file, generation, index) != chunk_id(store, file, generation + 1, index)


def test_auto_is_openais_where_the_window_allows_and_the_measured_size_below() -> None:
    assert resolve_strategy(None, 8191) == ChunkingStrategy("auto", 800, 400)
    assert resolve_strategy({"type": "auto"}, 8191).to_openai() == {
        "type": "static",
        "static": {"max_chunk_size_tokens": 800, "chunk_overlap_tokens": 400},
    }
    local = resolve_strategy(None, LOCAL_WINDOW_TOKENS)
    assert local == ChunkingStrategy("auto", 128, 32)  # the better of 128/32 and 240/60 (docs/rag.md)
    assert resolve_strategy(None, 100) == ChunkingStrategy("auto", 100, 25)


def static(size: object, overlap: object) -> dict[str, object]:
    return {"type": "static", "static": {"max_chunk_size_tokens": size, "chunk_overlap_tokens": overlap}}


def test_static_within_openais_bounds_is_taken() -> None:
    assert resolve_strategy(static(100, 50), 8191) == ChunkingStrategy("static", 100, 50)
    assert resolve_strategy(static(4096, 0), 8191) == ChunkingStrategy("static", 4096, 0)
    assert resolve_strategy(static(254, 127), LOCAL_WINDOW_TOKENS) == ChunkingStrategy("static", 254, 127)


@pytest.mark.parametrize(
    ("requested", "param"),
    [
        (static(99, 0), "chunking_strategy.static.max_chunk_size_tokens"),
        (static(4097, 0), "chunking_strategy.static.max_chunk_size_tokens"),
        (static(200, 101), "chunking_strategy.static.chunk_overlap_tokens"),
        (static(200, -1), "chunking_strategy.static.chunk_overlap_tokens"),
        (static("200", 0), "chunking_strategy.static.max_chunk_size_tokens"),
        (static(True, 0), "chunking_strategy.static.max_chunk_size_tokens"),
        (static(800, 400), "chunking_strategy.static.max_chunk_size_tokens"),  # above MiniLM's window
        ({"type": "static"}, "chunking_strategy.static"),
        ({"type": "semantic"}, "chunking_strategy.type"),
    ],
)
def test_out_of_bounds_static_is_a_400(requested: dict[str, object], param: str) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        resolve_strategy(requested, LOCAL_WINDOW_TOKENS)
    assert raised.value.param == param
