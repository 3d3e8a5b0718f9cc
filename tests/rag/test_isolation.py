"""The edge and the core never load the parser or the embedding runtime (DECISIONS.md, 16): they
would cost every chat call's process hundreds of MB and seconds of start-up."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("unstructured", "onnxruntime", "spacy", "tokenizers", "qdrant_edge", "qdrant_client", "rag")


@pytest.mark.parametrize("module", ["edge_http.app", "core.server", "workers.worker", "ringside_cli.cli"])
def test_importing_a_role_loads_no_rag_runtime(module: str) -> None:
    script = (
        f"import importlib, json, sys; importlib.import_module({module!r}); "
        f"print(json.dumps(sorted({{name.split('.')[0] for name in sys.modules}} & set({HEAVY!r}))))"
    )
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert json.loads(completed.stdout.strip().splitlines()[-1]) == []


def test_the_check_sees_a_module_that_loads_them() -> None:
    # The same probe on the rag domain itself finds the runtimes, so the test above can fail.
    script = "import json, sys; import rag.parsing, rag.embedder; print(json.dumps(sorted(sys.modules)))"
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "onnxruntime" in json.loads(completed.stdout.strip().splitlines()[-1])
