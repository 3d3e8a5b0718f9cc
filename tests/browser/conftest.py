"""Browser tests never skip in CI (DECISIONS.md): there a skip is reported as a failure. On a
developer's machine a skip stays a skip, and says why."""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

CHROMIUM = "/usr/bin/chromium"  # Debian's; never a downloaded browser
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DEADLINE_MS = 20_000  # every `expect` polls the page until this deadline (pages poll every few seconds)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        # a skip on a developer's machine; in CI the hook below reports it as a failure
        pytest.skip(f"{CHROMIUM} is missing: `sudo apt-get install chromium` (Debian's), then run the tests again")
    expect.set_options(timeout=DEADLINE_MS)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, None, None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.skipped and os.environ.get("CI") == "true":
        report.outcome = "failed"
        report.longrepr = f"{item.nodeid}: a browser test skipped in CI ({report.longrepr}); CI must run them all"
