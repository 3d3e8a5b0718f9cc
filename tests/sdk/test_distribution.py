"""The SDK is its own distribution (DECISIONS.md, "13"): a user who installs `ringside` gets the
package `ringside` alone — no server role, no generic top-level package — and none of the server's
dependencies."""

from __future__ import annotations

import email.parser
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.harness import ROOT

SERVER_ONLY = {"temporalio", "aiohttp", "sqlmodel", "sqlalchemy", "qdrant-client", "unstructured", "alembic"}


def _wheel(tmp_path: Path) -> Path:
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


def test_the_sdk_wheel_holds_only_the_ringside_package_and_no_server_dependency(tmp_path: Path) -> None:
    with zipfile.ZipFile(_wheel(tmp_path)) as wheel:
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
