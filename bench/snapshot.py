"""Extract one commit of Ringside into a directory, with this tree's harness, to benchmark it in isolation.

The benchmark starts ``python -m ringside core|edge`` from the directory it runs in. Running it from a
snapshot measures exactly the commit named (and records it), however the working tree changes meanwhile;
the harness (``bench/`` and the fake upstream) is copied from this tree, so every commit meets the same one.

Run: ``python -m bench.snapshot HEAD /tmp/ringside-bench`` then ``cd /tmp/ringside-bench &&
/path/to/.venv/bin/python -m bench.run --out /path/to/bench/results``.
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import subprocess
import tarfile
from pathlib import Path

from bench.machine import SNAPSHOT_FILE
from bench.procs import REPO_ROOT

HARNESS_DIRECTORIES = ("bench", "tests/fakes")
_NOT_COPIED = shutil.ignore_patterns(".venv-litellm", "results", "__pycache__")
GIT_TIMEOUT_S = 120


def snapshot(revision: str, destination: Path, root: Path = REPO_ROOT) -> str:
    """Extract ``revision`` into ``destination`` (new or empty), overlay the harness; return the commit."""
    commit = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "--verify", f"{revision}^{{commit}}"],
        capture_output=True,
        text=True,
        check=True,
        timeout=GIT_TIMEOUT_S,
    ).stdout.strip()
    if destination.exists() and any(destination.iterdir()):
        raise SystemExit(f"{destination} is not empty")
    destination.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(
        ["git", "-C", str(root), "archive", "--format=tar", commit],
        capture_output=True,
        check=True,
        timeout=GIT_TIMEOUT_S,
    )
    with tarfile.open(fileobj=io.BytesIO(archive.stdout), mode="r:") as tar:
        tar.extractall(destination, filter="data")
    for directory in HARNESS_DIRECTORIES:
        shutil.copytree(root / directory, destination / directory, ignore=_NOT_COPIED, dirs_exist_ok=True)
    litellm_venv = root / "bench" / ".venv-litellm"
    if litellm_venv.exists():
        (destination / "bench" / ".venv-litellm").symlink_to(litellm_venv)
    info = {"commit": commit, "dirty": False, "tree": f"git archive {commit}, harness from {root}"}
    (destination / SNAPSHOT_FILE).write_text(json.dumps(info, indent=2))
    return commit


def main(argv: list[str] | None = None) -> None:
    """CLI: ``python -m bench.snapshot REVISION DESTINATION``."""
    parser = argparse.ArgumentParser(prog="python -m bench.snapshot", description=__doc__)
    parser.add_argument("revision", help="any git revision, e.g. HEAD")
    parser.add_argument("destination", type=Path)
    args = parser.parse_args(argv)
    commit = snapshot(args.revision, args.destination.resolve())
    print(f"{commit} extracted to {args.destination.resolve()}")


if __name__ == "__main__":
    main()
