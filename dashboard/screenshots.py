"""Screenshots of every dashboard page for docs/dashboard/, against a fresh stack with demo data.

    .venv/bin/python dashboard/screenshots.py      # needs Debian's chromium (make chromium)

Customers, calls (served by the fake upstream), a tier, a slot, a webhook endpoint and a wallet
top-up are made through the API first, so every page has something to show.
"""

from __future__ import annotations

import pathlib
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.harness import ADMIN_KEY, FakeUpstream, Stack, stop_process  # noqa: E402

OUT = ROOT / "docs" / "dashboard"
CUSTOMERS = {"acme-corp": 25, "globex": 10, "initech": 5, "umbrella": None, "hooli": 2}
CALLS = {"acme-corp": 6, "globex": 3, "initech": 2, "hooli": 1}


def seed(stack: Stack, key: str) -> str:
    def ok(method: str, path: str, body: object = None, **kwargs: object) -> dict[str, object]:
        response = stack.call(method, path, key, body, **kwargs)
        assert response.status < 300, (path, response.body)
        return dict(response.json())

    tier = ok("POST", "/v1/tiers", {"name": "pro", "budget_usd": 50, "rate_limit_rpm": 600, "markup_pct": 30})
    ok("PATCH", "/v1/account", {"markup_pct": 20})
    for external_id, budget in CUSTOMERS.items():
        ok("POST", "/v1/customers", {"external_id": external_id, "name": external_id.title(), "budget_usd": budget})
    ok("PATCH", "/v1/customers/ext:globex", {"tier_id": tier["id"], "unset": ["budget_usd"]})
    ok("POST", "/v1/customers/ext:acme-corp/wallet/topup", {"amount_usd": 20, "description": "prepaid credit"})
    ok("POST", "/v1/slots", {"name": "default", "models": ["fc:openai/gpt-4o-mini", "fc:openai/gpt-4o"]})
    ok("POST", "/v1/webhooks", {"url": "https://hooks.example.com/ringside", "events": ["*"]})
    for external_id, count in CALLS.items():
        for n in range(count):
            model = "fc:openai/gpt-4o" if n % 3 == 0 else "fc:openai/gpt-4o-mini"
            prompt = [{"role": "user", "content": "Summarise this. " * 20}]
            body = {"model": model, "max_tokens": 64, "messages": prompt}
            ok("POST", "/v1/chat/completions", body, headers={"FC-Customer": f"ext:{external_id}"})
    ok("PATCH", "/v1/customers/ext:hooli", {"blocked": True})
    # refusals for the overview and the Requests page: a budget of 0 (402), an RPM of 1 (429)
    ok("PATCH", "/v1/customers/ext:initech", {"budget_usd": 0})
    ok("PATCH", "/v1/customers/ext:umbrella", {"rate_limit_rpm": 1})
    small = {"model": "fc:openai/gpt-4o-mini", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}
    for external_id in ("initech", "umbrella", "umbrella"):
        stack.call("POST", "/v1/chat/completions", key, small, headers={"FC-Customer": f"ext:{external_id}"})
    return str(ok("GET", "/v1/customers/ext:acme-corp")["id"])


def seed_store(stack: Stack, key: str) -> str:
    """A store with a file (in progress: no worker runs here) and a query, for its page."""
    import openai

    sdk = openai.OpenAI(base_url=stack.base_url + "/v1", api_key=key, max_retries=0)
    store = sdk.vector_stores.create(name="support-handbook")
    uploaded = sdk.files.create(
        file=("refunds.md", b"# Refunds\n\nPaid within 14 days.\n", "text/markdown"), purpose="assistants"
    )
    sdk.vector_stores.files.create(file_id=uploaded.id, vector_store_id=store.id)
    sdk.vector_stores.search(store.id, query="how long does a refund take")
    return store.id


def shoot(page: Page, name: str) -> None:
    expect(page.get_by_text("Loading…")).to_have_count(0)
    page.wait_for_timeout(500)  # lookups a loaded table starts (customer names), for a complete picture
    page.screenshot(path=OUT / f"{name}.png", full_page=True)
    print("wrote", OUT / f"{name}.png")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    work = pathlib.Path(tempfile.mkdtemp(prefix="ringside-screenshots-"))
    upstream = FakeUpstream.start(work)
    stack = Stack("sqlite", work / "stack", upstream, with_rag=True).start()
    try:
        key = stack.live_key
        customer_id = seed(stack, key)
        store_id = seed_store(stack, key)
        endpoint_id = stack.call("GET", "/v1/webhooks", key).json()["data"][0]["id"]
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(stack.base_url + "/dashboard")
            shoot(page, "sign-in")
            page.get_by_label("API key").fill(key)
            page.keyboard.press("Enter")
            expect(page.get_by_role("navigation", name="Sections")).to_be_visible()
            routes = {
                "overview": "overview",
                "customers": "customers",
                "customer": f"customers/{customer_id}",
                "keys": "keys",
                "tiers": "tiers",
                "slots": "slots",
                "webhooks": f"webhooks/{endpoint_id}",
                "events": "events",
                "requests": "requests",
                "vector-stores": "vector-stores",
                "vector-store": f"vector-stores/{store_id}",
                "stripe": "stripe",
                "account": "account",
            }
            for name, route in routes.items():
                page.goto(f"{stack.base_url}/dashboard#/{route}")
                expect(page.get_by_role("heading", level=1)).to_be_visible()
                shoot(page, name)
            page.set_viewport_size({"width": 390, "height": 800})
            page.goto(f"{stack.base_url}/dashboard#/customers")
            shoot(page, "narrow-customers")
            page.set_viewport_size({"width": 1280, "height": 800})
            page.get_by_role("button", name="Sign out").click()
            page.get_by_label("API key").fill(ADMIN_KEY)  # the operator's key: accounts only
            page.keyboard.press("Enter")
            expect(page.get_by_role("heading", name="Accounts")).to_be_visible()
            shoot(page, "accounts")
            browser.close()
    finally:
        stack.destroy()
        stop_process(upstream.process)


if __name__ == "__main__":
    main()
