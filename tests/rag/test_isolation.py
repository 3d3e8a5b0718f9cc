"""The edge and the core never load the parser or the embedding runtime (DECISIONS.md, 16): they
would cost every chat call's process hundreds of MB and seconds of start-up. The worker loads no
module of the edge either."""

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
        "print(json.dumps(sorted({name.split('.')[0] for name in sys.modules})))"
    )
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr[-2000:]
    loaded = set(json.loads(completed.stdout.strip().splitlines()[-1]))
    assert loaded & set(HEAVY) == set()
    # Nor does the worker load the edge (its batch lines use the kernel's parse and request log); the
    # same probe of the edge finds it, so this can fail.
    assert ("edge_http" in loaded) is (module == "edge_http.app") or module == "ringside_cli.cli"


def test_the_check_sees_a_module_that_loads_them() -> None:
    # The same probe on the rag domain itself finds the runtimes, so the test above can fail.
    script = "import json, sys; import rag.parsing, rag.embedder; print(json.dumps(sorted(sys.modules)))"
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "onnxruntime" in json.loads(completed.stdout.strip().splitlines()[-1])
