"""Text → chunks that never exceed the embedding model's input window, counted in the model's own
tokenizer (API.md "Managed RAG"), and the chunking strategies OpenAI's API accepts.

`auto` is OpenAI's 800 tokens with 400 overlap where the model's window allows; for a smaller
window (the local MiniLM reads 256 word pieces) it is the size and overlap that retrieved best on
the labelled set of bench/rag_recall.py (docs/rag.md). `static` takes OpenAI's bounds.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from tokenizers import Tokenizer

from rag.errors import InvalidRequestError

OPENAI_AUTO_SIZE_TOKENS = 800
OPENAI_AUTO_OVERLAP_TOKENS = 400
STATIC_MIN_SIZE_TOKENS = 100
STATIC_MAX_SIZE_TOKENS = 4096
# `auto` for models whose window is under 800 tokens: with the local MiniLM, 128/32 retrieved
# better than 240/60 on bench/rag_recall.py's labelled set (recall@1 0.933 vs 0.917 with three
# topics per document, 0.917 vs 0.850 with six; docs/rag.md), and MiniLM was trained at 128.
# Capped at the window for a model smaller still.
SMALL_WINDOW_AUTO_SIZE_TOKENS = 128
SMALL_WINDOW_AUTO_OVERLAP_TOKENS = 32
# Chunk ids are UUIDs (what Qdrant takes as a point id) derived from where the chunk belongs.
_CHUNK_ID_NAMESPACE = uuid.UUID("6d1f2c1e-5b7a-4c35-9a57-2f6b0f3c8e41")


@dataclass(frozen=True)
class ChunkingStrategy:
    """A resolved strategy: what OpenAI's object shows as `chunking_strategy` (`type` is the one
    asked for, the sizes are what was used)."""

    type: Literal["auto", "static"]
    max_chunk_size_tokens: int
    chunk_overlap_tokens: int

    def to_openai(self) -> dict[str, Any]:
        """The object OpenAI's API returns for it: always `static` with the sizes used, as OpenAI
        reports an `auto` strategy once a file is chunked."""
        return {
            "type": "static",
            "static": {
                "max_chunk_size_tokens": self.max_chunk_size_tokens,
                "chunk_overlap_tokens": self.chunk_overlap_tokens,
            },
        }


@dataclass(frozen=True)
class Chunk:
    """One chunk of a document: its position, its text and its length in the model's tokens."""

    index: int
    text: str
    token_count: int


def chunk_id(store_id: str, file_id: str, generation: int, index: int) -> str:
    """The point id of a chunk: the same (store, file, generation, index) always gives the same id,
    so a retried ingest overwrites its points instead of adding copies."""
    return str(uuid.uuid5(_CHUNK_ID_NAMESPACE, f"{store_id}/{file_id}/{generation}/{index}"))


def resolve_strategy(requested: Mapping[str, Any] | None, window_tokens: int) -> ChunkingStrategy:
    """The strategy to chunk with, from OpenAI's `chunking_strategy` parameter (None is `auto`).

    `window_tokens` is how many tokens of text the model reads ([CLS]/[SEP] and the like already
    taken off). Raises InvalidRequestError (a 400) for a malformed or out-of-bounds strategy,
    including a static size above the model's window.
    """
    kind = "auto" if requested is None else requested.get("type")
    if kind == "auto":
        return _auto_strategy(window_tokens)
    if kind != "static" or requested is None:
        raise InvalidRequestError("chunking_strategy.type", "chunking_strategy.type must be 'auto' or 'static'")
    return _static_strategy(requested.get("static"), window_tokens)


def _auto_strategy(window_tokens: int) -> ChunkingStrategy:
    if window_tokens >= OPENAI_AUTO_SIZE_TOKENS:
        return ChunkingStrategy("auto", OPENAI_AUTO_SIZE_TOKENS, OPENAI_AUTO_OVERLAP_TOKENS)
    size = min(SMALL_WINDOW_AUTO_SIZE_TOKENS, window_tokens)
    return ChunkingStrategy("auto", size, min(SMALL_WINDOW_AUTO_OVERLAP_TOKENS, size // 4))


def _static_strategy(static: object, window_tokens: int) -> ChunkingStrategy:
    if not isinstance(static, Mapping):
        raise InvalidRequestError("chunking_strategy.static", "a static chunking_strategy needs its 'static' object")
    size = _as_int(static.get("max_chunk_size_tokens"))
    overlap = _as_int(static.get("chunk_overlap_tokens"))
    if size is None or not STATIC_MIN_SIZE_TOKENS <= size <= STATIC_MAX_SIZE_TOKENS:
        raise InvalidRequestError(
            "chunking_strategy.static.max_chunk_size_tokens",
            f"max_chunk_size_tokens must be an integer from {STATIC_MIN_SIZE_TOKENS} to {STATIC_MAX_SIZE_TOKENS}",
        )
    if overlap is None or not 0 <= overlap <= size // 2:
        raise InvalidRequestError(
            "chunking_strategy.static.chunk_overlap_tokens",
            "chunk_overlap_tokens must be an integer from 0 to half of max_chunk_size_tokens",
        )
    if size > window_tokens:
        raise InvalidRequestError(
            "chunking_strategy.static.max_chunk_size_tokens",
            f"max_chunk_size_tokens {size} exceeds the embedding model's input window of {window_tokens} tokens",
        )
    return ChunkingStrategy("static", size, overlap)


def _as_int(value: object) -> int | None:
    """The value if it is a JSON integer (not a bool, not a numeric string), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class Chunker:
    """Splits text into overlapping chunks of at most `max_chunk_size_tokens` of the model's
    tokens. Boundaries fall between words, so a chunk's text re-tokenizes to what was counted."""

    def __init__(self, tokenizer: Tokenizer) -> None:
        # A copy that never truncates or pads and adds no special tokens: it counts the text itself.
        self._tokenizer = Tokenizer.from_str(tokenizer.to_str())
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()

    def count_tokens(self, text: str) -> int:
        """The text's length in the model's tokens, special tokens not included."""
        return len(self._tokenizer.encode(text, add_special_tokens=False).ids)

    def chunk(self, text: str, strategy: ChunkingStrategy) -> list[Chunk]:
        """The chunks of `text` in order; none for a text with no tokens."""
        encoding = self._tokenizer.encode(text, add_special_tokens=False)
        offsets = encoding.offsets
        word_ids = encoding.word_ids
        total = len(offsets)
        size = strategy.max_chunk_size_tokens
        step = size - strategy.chunk_overlap_tokens
        chunks: list[Chunk] = []
        start = 0
        while start < total:
            end = min(start + size, total)
            # Pull the end back to a word boundary (unless one word is longer than the chunk).
            while end < total and end - 1 > start and word_ids[end] is not None and word_ids[end] == word_ids[end - 1]:
                end -= 1
            chunk_text = text[offsets[start][0] : offsets[end - 1][1]]
            count = self.count_tokens(chunk_text)
            # Re-tokenized on its own a slice can differ from its share of the whole (normalisation at
            # the edges); shrink until it fits, so the window bound holds for what is embedded.
            while count > size and end - 1 > start:
                end -= 1
                chunk_text = text[offsets[start][0] : offsets[end - 1][1]]
                count = self.count_tokens(chunk_text)
            chunks.append(Chunk(index=len(chunks), text=chunk_text, token_count=count))
            if end >= total:
                break
            start = self._next_start(start, end, step, word_ids)
        return chunks

    @staticmethod
    def _next_start(start: int, end: int, step: int, word_ids: list[int | None]) -> int:
        """Where the next chunk begins: `step` tokens on, moved forward to the start of a word, and
        always past `start` so the loop ends."""
        candidate = min(start + step, end)
        while candidate < end and candidate > 0 and word_ids[candidate] is not None:
            if word_ids[candidate] != word_ids[candidate - 1]:
                break
            candidate += 1
        return max(candidate, start + 1)
