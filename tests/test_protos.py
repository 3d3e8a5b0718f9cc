"""The generated gRPC code is what protos/ generates (nobody edits ringside/core/v1/ by hand)."""

from __future__ import annotations

import subprocess
import sys

from tests.harness import ROOT


def test_generated_code_is_current() -> None:
    result = subprocess.run(
        [sys.executable, "protos/generate.py", "--check"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
