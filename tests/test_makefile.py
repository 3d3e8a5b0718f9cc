"""The Makefile's care for a newcomer's machine (issue 20, item 5): a venv made by another Python is
rebuilt rather than reused, and `make clean` keeps the data dir unless asked by name."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

MAKEFILE = Path(__file__).resolve().parents[1] / "Makefile"
VERSION = ".".join(map(str, sys.version_info[:3]))


def make(work: Path, *targets: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", f"PYTHON={sys.executable}", *targets],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_venv_made_by_another_python_is_rebuilt(tmp_path: Path) -> None:
    shutil.copy(MAKEFILE, tmp_path / "Makefile")
    stale = tmp_path / ".venv" / "bin" / "python"
    stale.parent.mkdir(parents=True)
    stale.write_text("#!/bin/sh\necho 3.10.0\n")  # what a venv of another interpreter answers
    stale.chmod(0o755)
    rebuilt = make(tmp_path, f".venv/.python-{VERSION}")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert f"was made by Python 3.10.0, not {VERSION}" in rebuilt.stdout
    assert (tmp_path / ".venv" / f".python-{VERSION}").exists()
    answered = subprocess.run(
        [str(stale), "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True
    )
    assert answered.stdout.strip() == str(sys.version_info[:2])
    again = make(tmp_path, f".venv/.python-{VERSION}")
    assert "rebuilding" not in again.stdout and "is up to date" in again.stdout


def test_make_clean_keeps_the_data_dir_and_clean_data_removes_it(tmp_path: Path) -> None:
    shutil.copy(MAKEFILE, tmp_path / "Makefile")
    (tmp_path / ".ringside").mkdir()
    (tmp_path / ".ringside" / "credentials.json").write_text("{}")
    (tmp_path / ".venv").mkdir()
    cleaned = make(tmp_path, "clean")
    assert cleaned.returncode == 0, cleaned.stderr
    assert not (tmp_path / ".venv").exists() and (tmp_path / ".ringside" / "credentials.json").exists()
    assert "make clean-data" in cleaned.stdout
    assert make(tmp_path, "clean-data").returncode == 0 and not (tmp_path / ".ringside").exists()
