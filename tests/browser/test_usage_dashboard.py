"""The usage-dashboard example (seed 003) in a real browser: Debian's headless Chromium, driven by
Playwright, against the example server and a real Ringside stack."""

from __future__ import annotations

import contextlib
import os
import pathlib
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator

from playwright.sync_api import Browser, Page, Request, expect

from tests.harness import ROOT, START_TIMEOUT_S, Stack, free_port, port_open, start_process, stop_process, wait_until

SERVER = ROOT / "examples" / "usage-dashboard" / "server.py"
CHAT = {"model": "fc:openai/gpt-4o-mini", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}


# The browser sees the same HTTP on either database: the session's stack on SQLite (docs/testing.md),
# never a skip (a skipped browser test fails CI's rule).


@contextlib.contextmanager
def dashboard(stack: Stack, origin: str | None = None) -> Iterator[str]:
    """The example server on a free port with the stack's test key; yields the page's URL."""
    port = free_port()
    args = [sys.executable, str(SERVER), "--ringside", stack.base_url, "--port", str(port)]
    args += ["--origin", origin] if origin else []
    log = stack.data_dir / f"dashboard-{port}.log"
    process: subprocess.Popen[bytes] = start_process(args, {**os.environ, "RINGSIDE_API_KEY": stack.test_key}, log)
    try:
        wait_until(lambda: port_open(port) or process.poll() is not None, START_TIMEOUT_S, "the example server")
        assert process.poll() is None, log.read_text(errors="replace")
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(process)


def sign_in(page: Page, url: str, user: str) -> None:
    page.goto(url)
    page.fill("input[name=user]", user)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Your AI spend")


def test_the_page_shows_live_spend_and_charts_it_without_the_secret_key(
    browser: Browser, stack: Stack, tmp_path: pathlib.Path
) -> None:
    user = "dash_" + secrets.token_hex(4)
    context = browser.new_context(viewport={"width": 820, "height": 520})
    page = context.new_page()
    to_ringside: list[Request] = []
    page.on("request", lambda request: to_ringside.append(request) if request.url.startswith(stack.base_url) else None)
    mints: list[Request] = []
    page.on("request", lambda request: mints.append(request) if "/api/mint-client-token" in request.url else None)
    spend, requests = page.locator("#spend"), page.locator("#requests")
    with dashboard(stack) as url:
        sign_in(page, url, user)  # lazily creates the customer ext:<user>
        expect(spend).to_have_text("$0.00")
        expect(requests).to_have_text("0")

        page.click("#demo-call")  # the server makes a metered call with the secret key
        expect(requests).to_have_text("1")
        expect(spend).not_to_have_text("$0.00")
        customer = stack.call("GET", f"/v1/customers/ext:{user}", stack.test_key).json()
        assert customer["request_count_mtd"] == 1 and customer["spend_usd_mtd"] > 0
        bar = page.locator("#chart .bar")
        expect(bar).to_have_count(1)  # today, the tallest bar
        expect(bar).to_have_attribute("style", re.compile(r"height: 100%"))

        # revoked tokens: the next poll gets 401, mints once more, and sees a call made elsewhere
        assert len(mints) == 1
        revoked = stack.call("POST", f"/v1/customers/ext:{user}/client_tokens/revoke_all", stack.test_key)
        assert revoked.status == 200, revoked.body
        one_call = spend.text_content()
        called = stack.call(
            "POST", "/v1/chat/completions", stack.test_key, CHAT, headers={"FC-Customer": f"ext:{user}"}
        )
        assert called.status == 200, called.body
        expect(requests).to_have_text("2")
        expect(spend).not_to_have_text(one_call or "")
        assert len(mints) == 2
        expect(page.locator("#status")).not_to_have_class(re.compile("error"))
        page.screenshot(path=tmp_path / "usage-dashboard.png")  # docs/usage-dashboard.png was taken here

    sent = [request.all_headers().get("authorization", "") for request in to_ringside]
    assert sent and all(header.startswith("Client ") for header in sent), sent
    assert stack.test_key not in page.content()
    context.close()


def test_the_same_page_on_another_origin_reads_nothing(browser: Browser, stack: Stack) -> None:
    user = "dash_" + secrets.token_hex(4)
    with dashboard(stack) as url:
        here = browser.new_context()
        page = here.new_page()
        sign_in(page, url, user)
        expect(page.locator("#spend")).to_have_text("$0.00")  # its own origin reads
        here.close()

        # the same page on another port mints tokens for the first origin: Ringside's answers do
        # not name this origin, so the browser hands the page nothing
        with dashboard(stack, origin=url) as elsewhere:
            there = browser.new_context()  # its own cookie jar (cookies ignore the port)
            page = there.new_page()
            with (
                page.expect_response(lambda response: "/api/mint-client-token" in response.url) as minted,
                page.expect_console_message(lambda message: "blocked by CORS policy" in message.text),
            ):
                sign_in(page, elsewhere, user)
            assert minted.value.status == 201
            expect(page.locator("#status")).to_have_text(re.compile("^Cannot read your usage"))
            expect(page.locator("#spend")).to_have_text("—")
            expect(page.locator("#chart .bar")).to_have_count(0)
            there.close()
