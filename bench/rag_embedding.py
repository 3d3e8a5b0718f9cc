"""Embedding throughput of the local model fc:local/all-minilm-l6-v2 (ONNX Runtime, int8), in
chunks per second for chunks of a fixed length in word pieces.

    python -m bench.rag_embedding [--chunk-tokens 200] [--chunks 1000] [--threads 2] [--batch-size 8]

The issue's target: >= 200 chunks/s for 200-word-piece chunks on 2 cores.
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


def measure(chunk_tokens: int, chunks: int, threads: int, batch_size: int) -> dict[str, float]:
    """Embeds `chunks` distinct chunks once (after a warm-up batch) and returns the rate."""
    embedder = LocalEmbedder(threads=threads, batch_size=batch_size)
    texts = [chunk_of(chunk_tokens, embedder, seed) for seed in range(chunks)]
    embedder.embed(texts[:batch_size])
    started, cpu_started = time.perf_counter(), time.process_time()
    for start in range(0, len(texts), 256):
        embedder.embed(texts[start : start + 256])
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
    options = parser.parse_args()
    result = measure(options.chunk_tokens, options.chunks, options.threads, options.batch_size)
    print(
        f"{result['chunks']} chunks of {result['chunk_tokens']} word pieces in {result['seconds']:.2f} s: "
        f"{result['chunks_per_s']:.0f} chunks/s ({options.threads} threads, batch {options.batch_size}); "
        f"{result['cpu_ms_per_chunk']:.1f} CPU ms/chunk = {result['chunks_per_cpu_s']:.1f} chunks per CPU-second "
        f"(load average {os.getloadavg()[0]:.1f})"
    )


if __name__ == "__main__":
    main()
