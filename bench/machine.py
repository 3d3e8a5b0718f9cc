"""Where the numbers came from: the machine, the versions, and the commit of Ringside that was measured."""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from bench.procs import REPO_ROOT

# Written by `python -m bench.snapshot` into a tree extracted from git: that tree has no .git of its own.
SNAPSHOT_FILE = "BENCH_SNAPSHOT.json"


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    return platform.processor()


def _memory_gib() -> float | None:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024**2, 1)
    return None


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def source(root: Path = REPO_ROOT) -> dict[str, Any]:
    """The git commit of the code under test, and whether the tree had uncommitted changes."""
    import json

    snapshot = root / SNAPSHOT_FILE
    if snapshot.exists():
        info: dict[str, Any] = json.loads(snapshot.read_text())
        return info

    def git(*arguments: str) -> str:
        run = subprocess.run(["git", "-C", str(root), *arguments], capture_output=True, text=True, timeout=30)
        return run.stdout.strip() if run.returncode == 0 else ""

    return {
        "commit": git("rev-parse", "HEAD") or None,
        "dirty": bool(
            git(
                "status", "--porcelain", "--untracked-files=no", "--", "core", "edge_http", "ringside_server", "workers"
            )
        ),
        "tree": str(root),
    }


def machine(extra_versions: dict[str, str | None] | None = None) -> dict[str, Any]:
    """CPUs, memory, load and versions; load generator, upstream and gateways share these CPUs."""
    return {
        "cpus": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)),
        "cpu_model": _cpu_model(),
        "memory_gib": _memory_gib(),
        "load_average": os.getloadavg(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": {
            **{name: _version(name) for name in ("aiohttp", "grpcio", "uvloop", "sqlalchemy", "psycopg")},
            **(extra_versions or {}),
        },
        "note": "load generator, fake upstream and gateway processes all run on this machine",
    }
