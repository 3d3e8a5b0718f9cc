"""A vector store's re-embed migration end to end (issue 17): chunks re-embedded per second, and
search latency during the migration against before it.

    python -m bench.rag_migration [--paragraphs 400] [--to fc:local/all-minilm-l6-v2] [--backend sqlite]

Starts the stack the ingest tests use (Temporal dev server, core, rag role, edge), makes a store of
one generated text under a test key with `--from` (default the test model's text-embedding-3-small,
which ingests at once), searches it `--searches` times (latency before), then migrates it to `--to`
while one client searches it in a loop (latency during), and prints the migration's chunks/s (from
the POST to `completed`: everything the workflow does — read the parse cache, chunk, embed, index,
meter, report, swap), the rag role's CPU seconds per chunk (which a loaded machine distorts less than
wall time; it includes the searches served meanwhile), and both latencies' p50/p95 with the load
average.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import statistics
import tempfile
import threading
import time

import openai

from tests.e2e.rag_ingest_stack import ingest_stack
from tests.harness import Stack

POLL_S = 0.1
QUERY = {"query": "which desk answers questions about the observatory", "max_num_results": 5}


def _search_ms(stack: Stack, key: str, store_id: str) -> float:
    started = time.perf_counter()
    answer = stack.call("POST", f"/v1/vector_stores/{store_id}/search", key, QUERY)
    assert answer.status == 200, answer.body
    return (time.perf_counter() - started) * 1000


def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system) the process has used: what a loaded machine does not distort."""
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"n={len(samples)} p50 {statistics.median(ordered):.1f} ms, p95 {p95:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paragraphs", type=int, default=400)
    parser.add_argument("--from", dest="source", default="text-embedding-3-small")
    parser.add_argument("--to", default="fc:local/all-minilm-l6-v2")
    parser.add_argument("--searches", type=int, default=100)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    text = "\n\n".join(
        f"Section {i}: the observatory crew logs night {i}, calibrates telescope {i % 9} and files report "
        f"{i * 7} with desk {i % 13}; visitors sign the register and return borrowed tools by dusk."
        for i in range(args.paragraphs)
    )
    work = pathlib.Path(tempfile.mkdtemp(prefix="bench-rag-migration-"))
    with ingest_stack(args.backend, work) as stack:
        key = stack.new_account()["test"]
        store = stack.call("POST", "/v1/vector_stores", key, {"name": "bench", "embedding_model": args.source}).json()
        sdk = openai.OpenAI(base_url=stack.base_url + "/v1", api_key=key)
        file_id = sdk.files.create(file=("bench.txt", text.encode()), purpose="assistants").id
        sdk.vector_stores.files.create(store["id"], file_id=file_id)
        while sdk.vector_stores.files.retrieve(file_id, vector_store_id=store["id"]).status == "in_progress":
            time.sleep(POLL_S)
        before = [_search_ms(stack, key, store["id"]) for _ in range(args.searches)]
        during: list[float] = []
        stop = threading.Event()

        def search_loop() -> None:
            while not stop.is_set():
                during.append(_search_ms(stack, key, store["id"]))

        load_before = os.getloadavg()[0]
        searcher = threading.Thread(target=search_loop, daemon=True)
        searcher.start()
        assert stack.rag is not None
        cpu_before = _cpu_s(stack.rag.pid)
        started = time.monotonic()
        migration = stack.call("POST", f"/v1/vector_stores/{store['id']}/migrate", key, {"embedding_model": args.to})
        assert migration.status == 200, migration.body
        path = f"/v1/vector_stores/{store['id']}/migrations/{migration.json()['id']}"
        while (found := stack.call("GET", path, key).json())["status"] == "in_progress":
            time.sleep(POLL_S)
        seconds = time.monotonic() - started
        cpu = _cpu_s(stack.rag.pid) - cpu_before
        stop.set()
        searcher.join()
        chunks = found["chunks_embedded"]
        print(
            f"migration {args.source} -> {args.to}: {found['status']}, {chunks} chunks in {seconds:.1f} s = "
            f"{chunks / seconds:.1f} chunks/s, {found['usage']['embedding_tokens']} tokens ({args.backend})"
        )
        print(f"rag role CPU during the migration: {cpu:.1f} s = {cpu / max(chunks, 1) * 1000:.1f} ms per chunk")
        print(f"search before: {_summary(before)} (load average {load_before:.1f})")
        print(f"search during: {_summary(during)} (load average {os.getloadavg()[0]:.1f} at the end)")


if __name__ == "__main__":
    main()
