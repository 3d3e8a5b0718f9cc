"""The edge's added latency on a vector store search: the same store searched three ways.

    python -m bench.rag_search_edge [--points 10000] [--queries 300] [--backend sqlite|postgres] [--index-dir DIR]
                                    [--profile DIR]

Starts a core, the rag role and an edge (tests.harness.Stack, no Temporal), creates a store, fills
its index with `--points` random 384-d unit vectors through the rag role's Upsert (as an ingest
would; no optimize(): the optimize policy runs it after ingests, docs/rag.md) — or, with
`--index-dir DIR`, gives the store a copy of the optimized index `python -m bench.rag_search
--index-dir DIR --points N` built (or builds it there first: minutes at 100k), so the searches run
on the HNSW graph as they do once the policy has optimized. Then times `--queries` searches of each:
- engine: the rag role's Search RPC with a ready vector (gRPC + the embedded engine; no embedding);
- embed: the rag role's Embed RPC for a short query (the local model);
- edge: `POST /v1/vector_stores/{id}/search` with that query over HTTP — the core's store lookup,
  the query's metered embedding (authorize, embed, settle), the engine, the query log write.
Prints p50/p99 of each and the edge's p50 over engine + embed (what the edge itself adds). The
machine is shared: read the numbers with the load average printed beside them. `--profile DIR`
samples the edge, the core and the rag role with py-spy during the edge's searches (raw stacks in
DIR/<role>.txt; `python -m bench.rag_search_edge --summarize DIR/<role>.txt` prints their top frames).
"""

from __future__ import annotations

import argparse
import collections
import os
import pathlib
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from typing import Any

import grpc
import numpy as np

from bench.procs import cpu_seconds
from bench.rag_search import BENCH_INDEX, built_index
from ringside.rag.v1 import rag_pb2, rag_pb2_grpc
from tests.harness import Stack

DIMENSIONS = 384
BATCH = 1024
QUERY = "how long does a refund take"
# The copied index's points name files no store has attached: the rag role's sweep (at its start,
# then every interval) would remove them, so it waits a day; the copy is made after its first pass.
NO_SWEEP = {"RINGSIDE_RAG_SWEEP_INTERVAL_S": "86400", "RINGSIDE_RAG_OPTIMIZE_INTERVAL_S": "0"}
FIRST_SWEEP_S = 3.0


def _percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {statistics.median(ordered):.2f} ms, p99 {p99:.2f} ms"


def _timed(call: object, count: int, roles: dict[str, int], cpu_ms: dict[str, float]) -> list[float]:
    """Wall milliseconds per call; `cpu_ms` gets each role's CPU milliseconds per call (robust to the
    machine's load, unlike the wall times)."""
    before = {role: cpu_seconds([pid]) for role, pid in roles.items()}
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        call()  # type: ignore[operator]
        samples.append((time.perf_counter() - started) * 1000)
    for role, pid in roles.items():
        cpu_ms[role] = (cpu_seconds([pid]) - before[role]) * 1000 / count
    return samples


def _answered(response: Any) -> None:
    """A search that failed would time nothing (a 500 is fast): every one must answer 200."""
    assert response.status == 200, response.body[:300]


def _cpu(cpu_ms: dict[str, float]) -> str:
    return ", ".join(f"{role} {ms:.2f}" for role, ms in cpu_ms.items()) + " CPU ms/query"


def _profilers(directory: pathlib.Path, roles: dict[str, int]) -> list[subprocess.Popen[bytes]]:
    """py-spy on each role (non-blocking sampling, 200 Hz, idle threads left out)."""
    directory.mkdir(parents=True, exist_ok=True)
    spy = pathlib.Path(sys.executable).parent / "py-spy"
    return [
        subprocess.Popen(
            [
                str(spy),
                "record",
                "--pid",
                str(pid),
                "--rate",
                "200",
                "--nonblocking",
                "--format",
                "raw",
                "--output",
                str(directory / f"{role}.txt"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for role, pid in roles.items()
    ]


def _stop(profilers: list[subprocess.Popen[bytes]]) -> None:
    for process in profilers:
        process.send_signal(signal.SIGINT)
    for process in profilers:
        process.wait(timeout=60)


def summarize(path: pathlib.Path, top: int = 25) -> None:
    """The frames most often on the stack (inclusive) and on top of it (self) in py-spy's raw output."""
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    print(f"{path}: {total} samples")
    for title, counter in (("inclusive", inclusive), ("self", own)):
        print(f"  {title}:")
        for frame, count in counter.most_common(top):
            print(f"    {100 * count / max(total, 1):5.1f}%  {frame}")


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--summarize":
        summarize(pathlib.Path(sys.argv[2]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--index-dir", type=pathlib.Path, help="search a copy of bench.rag_search's optimized index")
    parser.add_argument("--profile", type=pathlib.Path, help="py-spy the roles during the edge's searches, into DIR")
    parser.add_argument(
        "--distinct-queries",
        action="store_true",
        help="every timed embed and edge search asks a new query (no answer from the rag role's query cache)",
    )
    args = parser.parse_args()
    prebuilt = None
    if args.index_dir is not None:  # before the stack starts: building it may take minutes
        built, setup = built_index(args.index_dir / str(args.points), args.points)
        built.close()
        prebuilt = args.index_dir / str(args.points) / BENCH_INDEX
        print(f"optimized index of {args.points} points: optimize took {setup['optimize_s']:.1f} s")
    work = pathlib.Path(tempfile.mkdtemp(prefix="bench-rag-search-edge-"))
    extra_env = NO_SWEEP if prebuilt else {}
    stack = Stack(args.backend, work / "stack", None, extra_env=extra_env, with_rag=True).start()
    try:
        key = stack.new_account()["live"]
        store = stack.call("POST", "/v1/vector_stores", key, {"name": "bench"}).json()
        metadata = (("x-ringside-internal", stack.internal_token),)
        channel = grpc.insecure_channel(f"127.0.0.1:{stack.rag_port}")
        rag = rag_pb2_grpc.RagServiceStub(channel)
        index = rag_pb2.IndexRef(store_id=store["id"], generation=0)
        rng = np.random.default_rng(1)
        loaded = time.perf_counter()
        if prebuilt is not None:
            time.sleep(FIRST_SWEEP_S)  # the rag role's first sweep has passed
            shutil.copytree(prebuilt, stack.data_dir / "rag" / "index" / f"{store['id']}--g0")
        for start in range(0, 0 if prebuilt else args.points, BATCH):
            vectors = rng.normal(size=(min(BATCH, args.points - start), DIMENSIONS)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            points = [
                rag_pb2.Point(
                    id=str(uuid.UUID(int=start + n + 1)),
                    vector=vector.tolist(),
                    file_id="file-bench0000",
                    chunk_index=start + n,
                    text=f"chunk {start + n}",
                    filename="bench.txt",
                    attributes_json="{}",
                )
                for n, vector in enumerate(vectors)
            ]
            rag.Upsert(rag_pb2.UpsertRequest(index=index, points=points), metadata=metadata, timeout=300)
        load_s = time.perf_counter() - loaded
        embedded = rag.Embed(rag_pb2.EmbedRequest(texts=[QUERY]), metadata=metadata, timeout=60)
        vector = list(embedded.embeddings[0].values)
        search = rag_pb2.SearchRequest(index=index, vector=vector, max_num_results=10)
        body = {"query": QUERY, "max_num_results": 10}
        path = f"/v1/vector_stores/{store['id']}/search"
        for _ in range(10):  # warm-up: connections, caches
            _answered(stack.call("POST", path, key, body))
        assert len(rag.Search(search, metadata=metadata, timeout=60).hits) == 10, "the index has no points"
        assert stack.edge and stack.core and stack.rag
        roles = {"edge": stack.edge.pid, "core": stack.core.pid, "rag": stack.rag.pid}
        cpu: dict[str, dict[str, float]] = {"engine": {}, "embed": {}, "edge": {}}
        engine = _timed(lambda: rag.Search(search, metadata=metadata, timeout=60), args.queries, roles, cpu["engine"])
        asked = iter(range(10**9))

        def query() -> str:  # the same query each time (a cache hit after the first) or a new one
            return f"{QUERY} (case {next(asked)})" if args.distinct_queries else QUERY

        embed = _timed(
            lambda: rag.Embed(rag_pb2.EmbedRequest(texts=[query()]), metadata=metadata),
            args.queries,
            roles,
            cpu["embed"],
        )
        profilers = _profilers(args.profile, roles) if args.profile else []
        try:
            edge = _timed(
                lambda: _answered(stack.call("POST", path, key, {**body, "query": query()})),
                args.queries,
                roles,
                cpu["edge"],
            )
        finally:
            _stop(profilers)
        added = statistics.median(edge) - statistics.median(engine) - statistics.median(embed)
        how = "optimized copy" if prebuilt else "upserted, not optimized"
        how += ", distinct queries" if args.distinct_queries else ", one query repeated"
        print(
            f"{args.points} points ({how}; {args.backend}; loaded in {load_s:.1f} s; "
            f"load average {os.getloadavg()[0]:.1f})"
        )
        print(f"  engine (rag Search RPC, vector given): {_percentiles(engine)}; {_cpu(cpu['engine'])}")
        print(f"  embed  (rag Embed RPC, the query)    : {_percentiles(embed)}; {_cpu(cpu['embed'])}")
        print(f"  edge   (POST …/search over HTTP)     : {_percentiles(edge)}; {_cpu(cpu['edge'])}")
        print(f"  the edge adds (p50 edge − engine − embed): {added:.2f} ms")
        print(f"  load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        assert len(rag.Search(search, metadata=metadata, timeout=60).hits) == 10, "the index lost its points"
        channel.close()
    finally:
        stack.destroy()


if __name__ == "__main__":
    main()
