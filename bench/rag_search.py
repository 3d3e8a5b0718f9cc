"""Search latency of the embedded index (qdrant-edge-py) at 10k and 100k points of 384-d random
unit vectors (the local model's size; random vectors are fine for index timing).

    python -m bench.rag_search [--points 10000 --points 100000] [--queries 500] [--engine embedded|qdrant-client]
                               [--index-dir DIR] [--attribute-index-before-after]

Loads the points in batches of 1024, runs optimize() (builds HNSW), then times `--queries` searches
(limit 10, with and without an attribute filter) and prints p50/p99 in milliseconds. The issue's
target: p50 <= 20 ms at 100k points embedded.

Optimizing 100k points takes minutes (4-22 min on a loaded 2-core machine): with `--index-dir DIR`
the embedded index is built once under DIR/<points>/ (index `vs_bench--g1`, with `built.json`
recording its load and optimize times) and reused by later runs — and by
`python -m bench.rag_search_edge --index-dir DIR`, which copies it into a stack's rag role.

`--attribute-index-before-after` (embedded only) times the searches on an index without a payload
index on the filtered attribute (loaded with attribute indexes off; or an `--index-dir` built before
the rag role made them), then writes one point again through `upsert` — which creates the index of
the `shard` attribute over every point already there, timed as the build — and times them again.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import tempfile
import time

import numpy as np

from rag.filters import parse_filter
from rag.index import MAX_POINTS_PER_UPSERT, IndexPoint, VectorIndexes, index_name, open_indexes
from rag.index_edge import EdgeIndexes

DIMENSIONS = 384
BUILT = "built.json"  # in a reusable index root: the times its build took
BENCH_INDEX = "vs_bench--g1"


def unit_vectors(count: int, seed: int) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(count, DIMENSIONS)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def load(indexes: VectorIndexes, name: str, count: int, optimize: bool) -> dict[str, float]:
    """Creates the index and fills it (then builds HNSW unless told not to); returns the times."""
    indexes.create(name, DIMENSIONS)
    vectors = unit_vectors(count, seed=1)
    started = time.perf_counter()
    for start in range(0, count, MAX_POINTS_PER_UPSERT):
        batch = [
            bench_point(number, vectors[number]) for number in range(start, min(start + MAX_POINTS_PER_UPSERT, count))
        ]
        indexes.upsert(name, batch)
    loaded = time.perf_counter()
    if optimize:
        indexes.optimize(name)
    return {"load_s": loaded - started, "optimize_s": time.perf_counter() - loaded}


def bench_point(number: int, vector: np.ndarray) -> IndexPoint:
    return IndexPoint(
        id=f"00000000-0000-4000-8000-{number:012d}",
        vector=vector.tolist(),
        file_id=f"file-{number // 100}",
        chunk_index=number % 100,
        text=f"chunk {number}",
        attributes={"shard": number % 10},
    )


def index_attribute(root: pathlib.Path, name: str) -> tuple[VectorIndexes, float]:
    """Reopens the embedded index with attribute indexes on and writes point 0 again: the upsert
    creates the `shard` payload index over every point. → the indexes and that upsert's seconds."""
    indexes = EdgeIndexes(root)
    indexes.create(name, DIMENSIONS)
    started = time.perf_counter()
    indexes.upsert(name, [bench_point(0, unit_vectors(1, seed=1)[0])])
    took = time.perf_counter() - started
    assert "attributes.shard" in indexes.attribute_fields(name)
    return indexes, took


def report(
    engine: str, count: int, label: str, latencies_ms: list[float], setup: dict[str, float], queries: int
) -> None:
    p50_ms, p99_ms = statistics.median(latencies_ms), percentile(latencies_ms, 0.99)
    print(
        f"{engine} {count:>7} points {label}: p50 {p50_ms:.2f} ms, p99 {p99_ms:.2f} ms "
        f"({queries} queries; load {setup['load_s']:.1f} s, "
        f"optimize {setup['optimize_s']:.1f} s{', reused' if setup.get('reused') else ''}; "
        f"load average {os.getloadavg()[0]:.1f})",
        flush=True,
    )


def time_queries(indexes: VectorIndexes, name: str, queries: int, filtered: bool) -> list[float]:
    """Milliseconds per search."""
    tree = parse_filter({"type": "eq", "key": "shard", "value": 3}) if filtered else None
    latencies_ms = []
    for vector in unit_vectors(queries, seed=2):
        started = time.perf_counter()
        hits = indexes.search(name, vector.tolist(), limit=10, filters=tree)
        latencies_ms.append((time.perf_counter() - started) * 1000)
        assert hits, "a search over a full index found nothing"
    return latencies_ms


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def built_index(root: pathlib.Path, count: int, keys: int | None = None) -> tuple[VectorIndexes, dict[str, float]]:
    """The optimized embedded index of `count` points under `root` (built there once, then reused)."""
    marker = root / BUILT
    indexes = open_indexes(path=root) if keys is None else EdgeIndexes(root, max_indexed_keys=keys)
    if marker.exists():
        indexes.create(BENCH_INDEX, DIMENSIONS)  # opens it
        return indexes, {**json.loads(marker.read_text()), "reused": 1.0}
    indexes.drop(BENCH_INDEX)  # a build cut off earlier starts over
    setup = load(indexes, BENCH_INDEX, count, optimize=True)
    marker.write_text(json.dumps(setup))
    return indexes, setup


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, action="append")
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--engine", choices=["embedded", "qdrant-client"], default="embedded")
    parser.add_argument("--no-optimize", action="store_true", help="search before optimize() (HNSW not built)")
    parser.add_argument("--index-dir", type=pathlib.Path, help="build the optimized embedded index here once; reuse it")
    parser.add_argument(
        "--attribute-index-before-after",
        action="store_true",
        help="filtered searches without, then with the payload index on the filtered attribute (embedded)",
    )
    options = parser.parse_args()
    before_after = options.attribute_index_before_after
    if before_after and options.engine != "embedded":
        parser.error("--attribute-index-before-after measures the embedded engine")
    keys = 0 if before_after else None  # no attribute index until the "after" half
    for count in options.points or [10_000, 100_000]:
        with tempfile.TemporaryDirectory() as tmp:
            name = index_name("vs_bench", 1)
            if options.index_dir is not None:
                if options.engine != "embedded" or options.no_optimize:
                    parser.error("--index-dir keeps an optimized embedded index only")
                root = options.index_dir / str(count)
                indexes, setup = built_index(root, count, keys)
            elif options.engine == "embedded":
                root = pathlib.Path(tmp)
                indexes = open_indexes(path=root) if keys is None else EdgeIndexes(root, max_indexed_keys=keys)
                setup = load(indexes, name, count, optimize=not options.no_optimize)
            else:
                indexes = open_indexes(url=":memory:")
                setup = load(indexes, name, count, optimize=not options.no_optimize)
            try:
                fields = indexes.attribute_fields(name)
                label = "" if not before_after else (" (indexed)" if fields else " (no attribute index)")
                for filtered in (False, True):
                    latencies_ms = time_queries(indexes, name, options.queries, filtered)
                    kind = "filtered" if filtered else "plain   "
                    report(options.engine, count, kind + label, latencies_ms, setup, options.queries)
                if before_after and not fields:
                    indexes.close()
                    indexes, took = index_attribute(root, name)
                    print(f"{options.engine} {count:>7} points: the shard attribute's index built in {took:.2f} s")
                    for filtered in (False, True):
                        latencies_ms = time_queries(indexes, name, options.queries, filtered)
                        kind = "filtered" if filtered else "plain   "
                        report(options.engine, count, kind + " (indexed)", latencies_ms, setup, options.queries)
            finally:
                indexes.close()


if __name__ == "__main__":
    main()
