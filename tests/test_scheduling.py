"""`--dist loadfile` as `make test` runs it (tests/scheduling.py): the files that share a session stack
are one unit of work, so they run in one process and the stack starts once; every other file is its own."""

from __future__ import annotations

import pathlib

import pytest

from tests.conftest import pytest_xdist_make_scheduler
from tests.harness import ROOT
from tests.scheduling import SHARED_STACK_FILES


def test_every_file_of_a_shared_stack_group_exists() -> None:
    """A renamed file would silently leave its group: its stack would start again in the other process."""
    missing = [path for path in SHARED_STACK_FILES if not (ROOT / path).is_file()]
    assert missing == []


def test_loadfile_groups_the_files_sharing_a_stack_and_leaves_the_rest_alone(
    pytestconfig: pytest.Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pytestconfig.option, "dist", "loadfile")
    monkeypatch.setattr(pytestconfig.option, "tx", ["2*popen"])  # what -n 2 sets
    scheduler = pytest_xdist_make_scheduler(pytestconfig, log=None)
    scope = scheduler._split_scope
    by_group: dict[str, set[str]] = {}
    for path, group in SHARED_STACK_FILES.items():
        by_group.setdefault(group, set()).add(scope(f"{path}::test_one[sqlite]"))
    assert all(len(scopes) == 1 for scopes in by_group.values()), by_group
    assert len({next(iter(scopes)) for scopes in by_group.values()}) == len(by_group)
    alone = pathlib.Path(__file__).relative_to(ROOT).as_posix()
    assert scope(f"{alone}::test_x") == alone
    assert scope("tests/e2e/test_late_settle.py::test_a[sqlite-lease]") == "tests/e2e/test_late_settle.py"
