"""Ingest end to end: from attaching a text file to its vector-store file reading `completed`.

    python -m bench.rag_ingest [--paragraphs 1500] [--backend sqlite|postgres] [--threads 1]

Starts the stack the ingest tests use (a Temporal dev server, the core, the rag role, the edge;
tests/e2e/rag_ingest_stack.py), uploads one generated text of `paragraphs` paragraphs, attaches it,
polls the file and prints chunks, seconds and chunks/s (parse, chunk, embed with the local model,
index, report: everything the workflow does). The local model's threads: RINGSIDE_RAG_THREADS.
"""

from __future__ import annotations

import argparse
import pathlib
import tempfile
import time

import openai

from tests.e2e.rag_ingest_stack import ingest_stack

POLL_S = 0.1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paragraphs", type=int, default=1500)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    text = "\n\n".join(
        f"Paragraph {i}: the harbour master logs ship {i} arriving with {i * 7} containers of grain, "
        "timber and machinery for the northern rail depot."
        for i in range(args.paragraphs)
    )
    work = pathlib.Path(tempfile.mkdtemp(prefix="bench-rag-ingest-"))
    with ingest_stack(args.backend, work, {"RINGSIDE_RAG_THREADS": str(args.threads)}) as stack:
        sdk = openai.OpenAI(base_url=stack.base_url + "/v1", api_key=stack.new_account()["live"])
        store = sdk.vector_stores.create(name="bench")
        file_id = sdk.files.create(file=("bench.txt", text.encode()), purpose="assistants").id
        started = time.monotonic()
        sdk.vector_stores.files.create(store.id, file_id=file_id)
        while (found := sdk.vector_stores.files.retrieve(file_id, vector_store_id=store.id)).status == "in_progress":
            time.sleep(POLL_S)
        seconds = time.monotonic() - started
        chunks = found.model_dump()["chunk_count"]
        print(
            f"{found.status}: {len(text)} bytes, {chunks} chunks in {seconds:.1f} s = {chunks / seconds:.1f} chunks/s "
            f"({args.backend}, {args.threads} model thread(s))"
        )


if __name__ == "__main__":
    main()
