"""How `pytest -n N --dist loadfile` hands test files to its processes (docs/testing.md "Running"):
each file whole to one process, except that the files of a group in SHARED_STACK_FILES go together,
one after the other, to one process, so the session stack they share starts once in the suite (the
files' own stacks: module-scoped, started once per file wherever it runs)."""

from __future__ import annotations

from xdist.scheduler import LoadFileScheduling

# Files whose tests use one session-scoped stack (tests/e2e/conftest.py): starting it (a Temporal
# dev server, a core, the rag role with its model, an edge, a worker) was 6-46 s each time under load.
SHARED_STACK_FILES = {
    "tests/e2e/test_assistants.py": "assistants",
    "tests/e2e/test_assistants_client_tokens.py": "assistants",
    "tests/e2e/test_assistants_streaming.py": "assistants",
    "tests/e2e/test_responses_file_search.py": "assistants",
    "tests/e2e/test_rag_file_batches.py": "rag-ingest",
    "tests/e2e/test_rag_ingest.py": "rag-ingest",
    "tests/e2e/test_rag_search.py": "rag-ingest",
    "tests/sdk/test_webhook_deliveries.py": "webhooks",
    "tests/workers/test_webhooks_e2e.py": "webhooks",
}


class SharedStackScheduling(LoadFileScheduling):
    """`loadfile`, with the files of a SHARED_STACK_FILES group as one unit of work."""

    def _split_scope(self, nodeid: str) -> str:
        path = nodeid.split("::", 1)[0]
        return SHARED_STACK_FILES.get(path, path)
