"""The SDK is its own distribution (DECISIONS.md, "13"): a user who installs `ringside` gets the
package `ringside` alone — no server role, no generic top-level package — and none of the server's
dependencies."""

from __future__ import annotations

import email.parser
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.harness import ROOT

SERVER_ONLY = {"temporalio", "aiohttp", "sqlmodel", "sqlalchemy", "qdrant-client", "unstructured", "alembic"}


@pytest.fixture(scope="module")
def sdk_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The SDK's wheel, built once for the module's tests."""
    tmp_path = tmp_path_factory.mktemp("sdk-wheel")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            tmp_path,
            ROOT / "sdk" / "python",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (wheel,) = tmp_path.glob("ringside-*.whl")
    return wheel


def test_the_sdk_wheel_holds_only_the_ringside_package_and_no_server_dependency(sdk_wheel: Path) -> None:
    with zipfile.ZipFile(sdk_wheel) as wheel:
        names = wheel.namelist()
        metadata_name = next(name for name in names if name.endswith(".dist-info/METADATA"))
        metadata = email.parser.Parser().parsestr(wheel.read(metadata_name).decode())
    top_level = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert top_level == {"ringside"}
    assert "ringside/core/v1/metering_pb2.py" in names  # the gRPC stubs travel with the SDK
    requires = [
        line.split(";")[0].split("[")[0].split("<")[0].split(">")[0].split("=")[0].strip().lower()
        for line in metadata.get_all("Requires-Dist") or []
    ]
    assert "openai" in requires
    assert not SERVER_ONLY & set(requires)
    assert metadata["Requires-Python"] == ">=3.11"  # a floor, never a cap


PROBE = """
import importlib.util, json, sys
from ringside import AsyncRingside, Model, Ringside
client = Ringside(api_key="sk_test_probe", base_url="http://127.0.0.1:9/v1")
servers = ["temporalio", "aiohttp", "sqlmodel", "qdrant_client", "unstructured", "core", "edge_http",
           "workers", "rag", "ringside_server", "ringside_cli"]
print(json.dumps({"ref": Model.fc("openai", "gpt-4o-mini"), "base_url": str(client.base_url),
                  "present": [name for name in servers if importlib.util.find_spec(name) is not None]}))
"""


def test_a_fresh_venv_with_only_the_sdk_imports_it_and_has_no_server(sdk_wheel: Path, tmp_path: Path) -> None:
    """DECISIONS.md "13": the SDK installed alone (its dependencies from the package index, as a
    user gets them) imports `from ringside import Ringside`, and nothing of the server is there."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", venv], check=True, timeout=120)
    installed = subprocess.run(
        [venv / "bin" / "pip", "install", "--quiet", "--disable-pip-version-check", str(sdk_wheel)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    probe = subprocess.run(
        [venv / "bin" / "python", "-I", "-c", PROBE], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert probe.returncode == 0, probe.stderr
    found = json.loads(probe.stdout)
    assert found == {"ref": "fc:openai/gpt-4o-mini", "base_url": "http://127.0.0.1:9/v1/", "present": []}
