"""The dashboard's committed assets are what its lock file and sources build (DECISIONS.md: a
reproducible build, prebuilt assets committed so `make up` needs no Node)."""

from __future__ import annotations

import pathlib
import shutil
import subprocess

from tests.harness import ROOT

DASHBOARD = ROOT / "dashboard"
COMMITTED = ROOT / "edge_http" / "dashboard" / "static"


def test_the_committed_assets_are_the_build_of_the_sources(tmp_path: pathlib.Path) -> None:
    node = shutil.which("node")
    assert node is not None, "Node 20+ is needed to rebuild the dashboard (make node-packages)"
    if not (DASHBOARD / "node_modules" / ".package-lock.json").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=DASHBOARD, check=True, capture_output=True)
    built = tmp_path / "static"
    subprocess.run([node, "build.mjs", "--out", str(built)], cwd=DASHBOARD, check=True, capture_output=True)
    names = sorted(path.name for path in built.iterdir())
    assert names == sorted(path.name for path in COMMITTED.iterdir()), "run `make dashboard` and commit"
    stale = [name for name in names if (built / name).read_bytes() != (COMMITTED / name).read_bytes()]
    assert stale == [], f"edge_http/dashboard/static is stale ({stale}): run `make dashboard` and commit"
