"""Browser tests never skip in CI (DECISIONS.md): there a skip is reported as a failure. On a
developer's machine a skip stays a skip, and says why."""

from __future__ import annotations

import os
from collections.abc import Generator

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, None, None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.skipped and os.environ.get("CI") == "true":
        report.outcome = "failed"
        report.longrepr = f"{item.nodeid}: a browser test skipped in CI ({report.longrepr}); CI must run them all"
