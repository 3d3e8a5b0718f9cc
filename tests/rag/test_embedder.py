"""The local model fc:local/all-minilm-l6-v2 on ONNX Runtime gives the reference model's vectors."""

from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest

from rag.embedder import (
    DIMENSIONS,
    MAX_PADDING_SHARE,
    MAX_TEXTS_PER_CALL,
    WINDOW_TOKENS,
    EmbeddingInputError,
    LocalEmbedder,
    QueryCache,
    length_buckets,
)

REFERENCE = json.loads((pathlib.Path(__file__).parent / "fixtures" / "minilm_reference.json").read_text())


def test_vectors_match_the_reference_model(embedder: LocalEmbedder) -> None:
    # The fixture was made once by sentence-transformers on torch (fixtures/make_reference_vectors.py).
    embeddings = embedder.embed(REFERENCE["sentences"])
    reference = np.asarray(REFERENCE["vectors"], dtype=np.float32)
    assert embeddings.vectors.shape == (len(REFERENCE["sentences"]), DIMENSIONS)
    cosines = (embeddings.vectors * reference).sum(axis=1) / np.linalg.norm(reference, axis=1)
    worst = int(np.argmin(cosines))
    assert cosines[worst] >= 0.999, (REFERENCE["sentences"][worst][:60], float(cosines[worst]))


def test_vectors_are_unit_length_and_keep_input_order_whatever_the_batching() -> None:
    texts = [sentence for sentence in REFERENCE["sentences"] if len(sentence) < 200]
    one_by_one = LocalEmbedder(threads=1, batch_size=1).embed(texts).vectors
    batched = LocalEmbedder(threads=2, batch_size=7).embed(texts).vectors
    np.testing.assert_allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(batched, one_by_one, atol=1e-4)


@pytest.mark.parametrize(
    ("lengths", "batch_size", "expected"),
    [
        ([130, 130, 130, 22], 8, [[3], [0, 1, 2]]),  # a file's short last chunk is not padded to 130
        ([130] * 10, 8, [[0, 1, 2, 3, 4, 5, 6, 7], [8, 9]]),
        ([40, 100, 35, 110, 98], 8, [[2, 0], [4, 1, 3]]),
    ],
)
def test_model_runs_are_padded_only_to_texts_of_about_their_length(
    lengths: list[int], batch_size: int, expected: list[list[int]]
) -> None:
    buckets = length_buckets(lengths, batch_size)
    assert buckets == expected
    for bucket in buckets:
        longest = max(lengths[position] for position in bucket)
        assert all(lengths[position] >= (1 - MAX_PADDING_SHARE) * longest for position in bucket)


def test_long_input_is_truncated_to_the_window_and_counted_as_read(embedder: LocalEmbedder) -> None:
    long_text = "the river floods the valley every spring " * 200
    embeddings = embedder.embed(["short text", long_text])
    assert embeddings.token_counts == [4, WINDOW_TOKENS]
    assert embedder.count_tokens([long_text]) == [WINDOW_TOKENS]
    # What lies past the window does not change the vector.
    past_the_window = embedder.embed([long_text + " volcanoes erupt"]).vectors[0]
    np.testing.assert_allclose(past_the_window, embeddings.vectors[1], atol=1e-5)


@pytest.mark.parametrize("texts", [[], ["ok", ""], ["   "]], ids=["no-texts", "empty", "blank"])
def test_nothing_to_embed_is_refused(embedder: LocalEmbedder, texts: list[str]) -> None:
    with pytest.raises(EmbeddingInputError):
        embedder.embed(texts)


def test_too_many_texts_in_one_call_are_refused(embedder: LocalEmbedder) -> None:
    with pytest.raises(EmbeddingInputError, match=str(MAX_TEXTS_PER_CALL)):
        embedder.embed(["x"] * (MAX_TEXTS_PER_CALL + 1))


def test_similar_texts_are_closer_than_unrelated_ones(embedder: LocalEmbedder) -> None:
    texts = ["How do I reset my password?", "I forgot my login password", "Bake bread at 220 C"]
    vectors = embedder.embed(texts).vectors
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.3


def test_a_query_asked_again_is_answered_from_the_cache_exactly() -> None:
    fresh = LocalEmbedder(threads=1)
    query = "how long does a refund take"
    first = fresh.embed([query])
    assert (fresh.query_cache.hits, fresh.query_cache.misses) == (0, 1)
    first.vectors[0, :] = 0.0  # what a caller does with its answer never reaches the cache
    again = fresh.embed([query])
    assert fresh.query_cache.hits == 1
    uncached = fresh._embed([query])  # the model run itself
    np.testing.assert_array_equal(again.vectors, uncached.vectors)
    assert again.token_counts == uncached.token_counts
    fresh.embed([query, "another"])  # several texts (an ingest's batch) are never cached
    assert (fresh.query_cache.hits, fresh.query_cache.misses) == (1, 1)


def test_the_query_cache_is_bounded_and_drops_the_least_recently_used() -> None:
    cache = QueryCache(entries=2)
    vector = np.ones(DIMENSIONS, dtype=np.float32)
    for text in ("a", "b"):
        cache.put(text, vector, 3)
    assert cache.get("a") is not None  # "b" is now the least recently used
    cache.put("c", vector, 3)
    assert cache.get("b") is None and cache.get("a") is not None and cache.get("c") is not None
    cache.put("x" * 5000, vector, 3)  # past QUERY_CACHE_MAX_CHARS: not kept
    assert cache.get("x" * 5000) is None
