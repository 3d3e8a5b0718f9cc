"""Embedding throughput of the local model fc:local/all-minilm-l6-v2 (ONNX Runtime, int8), in
chunks per second for chunks of a fixed length in word pieces.

    python -m bench.rag_embedding [--chunk-tokens 200] [--chunks 1000] [--threads 2] [--batch-size 8]
                                  [--per-file N]

The issue's target: >= 200 chunks/s for 200-word-piece chunks on 2 cores.

`--per-file N` embeds as an ingest does, one call per file: each file is 1..N full chunks and a
shorter last chunk (10..90 % of the chunk size), so the padding a short chunk would pay in a run of
full-size ones shows (rag/embedder.py's length_buckets).
"""

from __future__ import annotations

import argparse
import os
import random
import time

from rag.embedder import LocalEmbedder

WORDS = [
    "river",
    "mountain",
    "ledger",
    "invoice",
    "customer",
    "budget",
    "vector",
    "store",
    "chunk",
    "model",
    "token",
    "weather",
    "spring",
    "harbour",
    "engine",
    "policy",
    "refund",
    "password",
    "schedule",
    "cluster",
    "network",
    "payment",
    "report",
    "quarter",
    "growth",
]


def chunk_of(tokens: int, embedder: LocalEmbedder, seed: int) -> str:
    """A text of about `tokens` word pieces ([CLS] and [SEP] included), made of common words."""
    rng = random.Random(seed)
    words: list[str] = []
    while True:
        words.extend(rng.choice(WORDS) for _ in range(8))
        if embedder.count_tokens([" ".join(words)])[0] >= tokens:
            return " ".join(words)


def calls_of(texts: list[str], per_file: int, chunk_tokens: int, embedder: LocalEmbedder) -> list[list[str]]:
    """The embed calls: 256 texts each, or with `per_file` one per file (full chunks, a short last one)."""
    if not per_file:
        return [texts[start : start + 256] for start in range(0, len(texts), 256)]
    rng, calls, used = random.Random(1), [], 0
    while used < len(texts):
        full = texts[used : used + rng.randint(1, per_file)]
        used += len(full)
        calls.append([*full, chunk_of(max(4, int(chunk_tokens * rng.uniform(0.1, 0.9))), embedder, -used)])
    return calls


def measure(chunk_tokens: int, chunks: int, threads: int, batch_size: int, per_file: int = 0) -> dict[str, float]:
    """Embeds `chunks` distinct chunks once (after a warm-up batch) and returns the rate."""
    embedder = LocalEmbedder(threads=threads, batch_size=batch_size)
    texts = [chunk_of(chunk_tokens, embedder, seed) for seed in range(chunks)]
    calls = calls_of(texts, per_file, chunk_tokens, embedder)
    chunks = sum(len(call) for call in calls)
    embedder.embed(texts[:batch_size])
    started, cpu_started = time.perf_counter(), time.process_time()
    for call in calls:
        embedder.embed(call)
    elapsed_s = time.perf_counter() - started
    # CPU time (all of this process's threads): what a chunk costs whatever else the machine runs.
    cpu_ms = (time.process_time() - cpu_started) * 1000 / chunks
    return {
        "chunks": chunks,
        "chunk_tokens": chunk_tokens,
        "seconds": elapsed_s,
        "chunks_per_s": chunks / elapsed_s,
        "cpu_ms_per_chunk": cpu_ms,
        "chunks_per_cpu_s": 1000 / cpu_ms,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunk-tokens", type=int, default=200)
    parser.add_argument("--chunks", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--per-file", type=int, default=0, help="one call per file of 1..N full chunks + a short one")
    options = parser.parse_args()
    result = measure(options.chunk_tokens, options.chunks, options.threads, options.batch_size, options.per_file)
    print(
        f"{result['chunks']} chunks of {result['chunk_tokens']} word pieces in {result['seconds']:.2f} s: "
        f"{result['chunks_per_s']:.0f} chunks/s ({options.threads} threads, batch {options.batch_size}); "
        f"{result['cpu_ms_per_chunk']:.1f} CPU ms/chunk = {result['chunks_per_cpu_s']:.1f} chunks per CPU-second "
        f"(load average {os.getloadavg()[0]:.1f})"
    )


if __name__ == "__main__":
    main()
