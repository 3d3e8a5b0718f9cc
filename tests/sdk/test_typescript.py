"""The TypeScript SDK's tests (sdk/typescript/test, Node's built-in runner) against the same live
stack as the Python ones, so `make test` covers both SDKs. The TS tests get the base URL, a fresh
account's test key, and webhook deliveries signed by the server's own signing code."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from core.domain.webhooks import new_secret
from tests.harness import ROOT, Stack
from workers.webhooks.signing import headers

PACKAGE = ROOT / "sdk" / "typescript"
NPM_TIMEOUT_S = 300
TEST_TIMEOUT_S = 240


def _run(args: list[str], env: dict[str, str] | None = None, timeout_s: float = NPM_TIMEOUT_S) -> str:
    result = subprocess.run(args, cwd=PACKAGE, env=env, capture_output=True, text=True, timeout=timeout_s)
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}"
    return result.stdout


@pytest.fixture(scope="module")
def built() -> Path:
    """Install the pinned packages when absent (`make test` does it first), then compile with
    `tsc --strict` (the package and its tests)."""
    npm = shutil.which("npm")
    assert npm is not None and shutil.which("node"), "Node 20+ and npm are needed for the TypeScript SDK's tests"
    if not (PACKAGE / "node_modules" / ".package-lock.json").exists():
        _run([npm, "ci", "--no-audit", "--no-fund"])
    _run([npm, "run", "build"])
    _run(["npx", "tsc", "-p", "tsconfig.test.json"])
    return PACKAGE / "build-test" / "test"


def _signed(secrets: list[str], at: int) -> dict[str, object]:
    body = json.dumps({"id": "evt_ts", "object": "event", "type": "customer.created", "data": {}})
    return {"body": body, "headers": headers(secrets, "evt_ts", at, body.encode()), "at": at}


def test_the_typescript_sdk_passes_its_tests_against_the_stack(stack: Stack, built: Path) -> None:
    secret, old_secret = new_secret(), new_secret()
    now = int(time.time())
    fixture = {
        "secret": secret,
        "old_secret": old_secret,
        "current": _signed([secret], now),
        "rotating": _signed([secret, old_secret], now),
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RINGSIDE_", "OPENAI_"))}
    env |= {
        "RINGSIDE_BASE_URL": stack.base_url + "/v1",
        "RINGSIDE_API_KEY": stack.new_account()["test"],
        "RINGSIDE_TEST_WEBHOOKS": json.dumps(fixture),
    }
    output = _run(["node", "--test", "--test-reporter=spec", str(built)], env=env, timeout_s=TEST_TIMEOUT_S)
    assert "ℹ fail 0" in output and "ℹ skipped 0" in output, output[-4000:]
    assert "ℹ pass 0" not in output, output[-4000:]
