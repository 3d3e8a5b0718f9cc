"""The operator dashboard (/dashboard) in Debian's Chromium, against a real stack: everything the page
shows or changes goes through Ringside's public API with the key the operator typed."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Locator, Page, Request, expect

from tests.harness import ADMIN_KEY, ROOT, Stack, wait_until

CHAT = {"model": "fc:openai/gpt-4o-mini", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}
RECEIVER = "https://hooks.example.invalid/ringside"  # does not resolve: accepted, never delivered
AXE = ROOT / "dashboard" / "node_modules" / "axe-core" / "axe.min.js"  # pinned by dashboard/package-lock.json
AXE_RULES = "{runOnly: ['wcag2a', 'wcag2aa', 'best-practice']}"

# The session's stack, on SQLite (docs/testing.md); a fresh account per test.


def usd(value: float) -> str:
    """The page's money format (dashboard/src/format.js), for the amounts these tests make."""
    if value == 0:
        return "$0.00"
    if abs(value) < 0.01:
        return "$" + f"{abs(value):.6f}".rstrip("0")
    return f"${value:,.2f}"


class Session:
    """A browser context on the dashboard that records what the page sends and what it logs."""

    def __init__(self, context: BrowserContext, stack: Stack) -> None:
        self.context = context
        self.page: Page = context.new_page()
        self.url = stack.base_url + "/dashboard"
        self.sent: list[Request] = []
        self.console: list[str] = []
        self.page.on("request", self._sent)
        self.page.on("console", self._console)

    def _sent(self, request: Request) -> None:
        self.sent.append(request)

    def _console(self, message: ConsoleMessage) -> None:
        self.console.append(message.text)

    def try_sign_in(self, key: str) -> None:
        """With the keyboard only: the labelled field takes focus, Enter submits."""
        self.page.goto(self.url)
        self.page.get_by_label("API key").focus()
        self.page.keyboard.type(key)
        self.page.keyboard.press("Enter")

    def sign_in(self, key: str) -> None:
        self.try_sign_in(key)
        expect(self.nav).to_be_visible()

    @property
    def nav(self) -> Locator:
        return self.page.get_by_role("navigation", name="Sections")

    def open(self, route: str) -> None:
        self.page.goto(f"{self.url}#/{route}")


@pytest.fixture
def account(stack: Stack) -> dict[str, Any]:
    return stack.new_account()


@pytest.fixture
def session(browser: Browser, stack: Stack) -> Iterator[Session]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = Session(context, stack)
    yield opened
    # the key never left the page except as a header to Ringside itself
    assert context.cookies() == []
    assert all("sk_" not in request.url for request in opened.sent)
    assert not [line for line in opened.console if "Content Security Policy" in line], opened.console
    context.close()


def test_a_customer_created_through_the_api_shows_with_its_spend(
    stack: Stack, account: dict[str, Any], session: Session
) -> None:
    key = account["live"]
    external_id = "acme_" + secrets.token_hex(3)
    created = stack.call("POST", "/v1/customers", key, {"external_id": external_id, "budget_usd": 5})
    assert created.status == 201, created.body
    for _ in range(2):
        called = stack.call("POST", "/v1/chat/completions", key, CHAT, headers={"FC-Customer": f"ext:{external_id}"})
        assert called.status == 200, called.body
    # the answer does not wait for the settle (the durable hold covers the call): poll for it
    settled = lambda: stack.call("GET", f"/v1/customers/ext:{external_id}", key).json()  # noqa: E731
    customer = wait_until(lambda: (c := settled())["request_count_mtd"] == 2 and c, 10, "both calls settled")
    assert customer["spend_usd_mtd"] > 0

    page = stack.call("GET", "/dashboard")
    assert page.status == 200 and "script-src 'self'" in page.headers["content-security-policy"]
    assert "'unsafe-inline'" not in page.headers["content-security-policy"]

    session.sign_in(key)
    expect(session.page.locator("#mode-badge")).to_have_text("Live")
    expect(session.page.locator("#total-requests")).to_have_text("2")
    expect(session.page.locator("#total-billable")).to_have_text(usd(customer["spend_usd_mtd"]))
    expect(session.page.get_by_role("region", name="Top customers by spend").first).to_contain_text(external_id)

    session.nav.get_by_role("link", name="Customers").click()
    session.page.get_by_label("Search by external id, name or email").fill(external_id[-4:])
    row = session.page.get_by_role("row").filter(has_text=external_id)
    expect(row).to_contain_text(f"{usd(customer['spend_usd_mtd'])} of $5.00")
    row.get_by_role("link", name=external_id).click()
    expect(session.page).to_have_url(re.compile(f"#/customers/{customer['id']}$"))
    expect(session.page.locator("#customer-spend")).to_have_text(usd(customer["spend_usd_mtd"]))
    expect(session.page.locator("#customer-requests")).to_have_text("2")
    expect(session.page.get_by_role("region", name="Model mix").first).to_contain_text("fc:openai/gpt-4o-mini")

    to_ringside = [r for r in session.sent if "/v1/" in r.url]
    assert to_ringside and all(r.all_headers().get("authorization") == f"Bearer {key}" for r in to_ringside)


def test_the_customer_table_pages_through_a_search(stack: Stack, account: dict[str, Any], session: Session) -> None:
    key = account["live"]
    for n in range(23):  # a page holds 20
        assert stack.call("POST", "/v1/customers", key, {"external_id": f"paged_{n:02d}"}).status == 201
    stack.call("POST", "/v1/customers", key, {"external_id": "elsewhere"})
    session.sign_in(key)
    session.open("customers")
    page = session.page
    page.get_by_label("Search by external id, name or email").fill("PAGED_")  # case-insensitive
    rows = page.get_by_role("row").filter(has=page.get_by_role("link", name=re.compile(r"^paged_")))
    expect(rows).to_have_count(20)
    expect(rows.first).to_contain_text("paged_22")  # newest first
    expect(page.get_by_role("row").filter(has_text="elsewhere")).to_have_count(0)
    page.get_by_role("button", name="Older →").click()
    expect(rows).to_have_count(3)
    expect(rows.last).to_contain_text("paged_00")
    expect(page.get_by_role("button", name="Older →")).to_be_disabled()
    page.get_by_role("button", name="← Newer").click()
    expect(rows).to_have_count(20)
    expect(page.get_by_role("button", name="← Newer")).to_be_disabled()


def test_budget_top_up_and_block_change_what_the_api_answers(
    stack: Stack, account: dict[str, Any], session: Session
) -> None:
    key = account["live"]
    customer = stack.call("POST", "/v1/customers", key, {"external_id": "editable"}).json()
    session.sign_in(key)
    expect(session.page.locator("#mode-badge")).to_have_text("Live")
    session.open(f"customers/{customer['id']}")
    page = session.page

    page.get_by_label("Monthly budget (USD)").fill("12.5")
    page.get_by_role("button", name="Save limits").click()
    expect(page.get_by_text("Limits saved.")).to_be_visible()
    after = stack.call("GET", f"/v1/customers/{customer['id']}", key).json()
    assert after["budget_usd"] == 12.5 and after["limits_source"]["budget_usd"] == "customer", after
    expect(page.locator("#customer-budget")).to_have_text("$12.50")

    with page.expect_request(lambda r: r.url.endswith("/wallet/topup")) as topup:
        page.get_by_label("Amount (USD)").fill("3")
        page.get_by_role("button", name="Top up").click()
    assert topup.value.all_headers().get("idempotency-key", "").startswith("dash_")
    expect(page.get_by_text("Topped up: the balance is now $3.00.")).to_be_visible()
    wallet = stack.call("GET", f"/v1/customers/{customer['id']}/wallet", key).json()
    assert wallet["balance_usd"] == 3, wallet
    expect(page.locator("#customer-wallet")).to_have_text("$3.00")
    expect(page.get_by_role("region", name="Wallet transactions").first).to_contain_text("topup")

    page.get_by_role("button", name="Mint token").click()
    expect(page.get_by_text("Client Token", exact=True)).to_be_visible()
    token = page.locator(".secret-value").text_content() or ""
    read = stack.call(
        "GET", f"/v1/customers/{customer['id']}", headers={"Authorization": f"Client {token}", "Origin": stack.base_url}
    )
    assert read.status == 200 and read.json()["id"] == customer["id"], read.body

    page.get_by_role("button", name="Block customer").click()
    expect(page.get_by_role("button", name="Unblock customer")).to_be_visible()
    assert stack.call("GET", f"/v1/customers/{customer['id']}", key).json()["blocked"] is True
    refused = stack.call("POST", "/v1/chat/completions", key, CHAT, headers={"FC-Customer": customer["id"]})
    assert refused.status == 403 and refused.json()["error"]["code"] == "customer_blocked"


def test_a_key_created_in_the_page_works_until_it_is_revoked_there(
    stack: Stack, account: dict[str, Any], session: Session
) -> None:
    session.sign_in(account["live"])
    session.nav.get_by_role("link", name="API keys").click()
    page = session.page
    page.get_by_label("Name", exact=True).fill("made in the dashboard")
    page.get_by_label("api:write").check()
    page.get_by_role("button", name="Create key").click()
    secret = page.locator(".secret-value")
    expect(secret).to_have_text(re.compile(r"^sk_live_"))
    made = secret.text_content() or ""
    assert stack.call("GET", "/v1/customers", made).status == 200
    listed = stack.call("GET", "/v1/api_keys?limit=100", account["live"]).json()["data"]
    (row,) = [k for k in listed if k["name"] == "made in the dashboard"]
    assert set(row["scopes"]) == {"api:read", "api:write"}

    page.get_by_role("button", name="Revoke made in the dashboard").click()
    expect(page.get_by_role("button", name="Confirm revoke")).to_be_focused()  # Enter confirms
    page.keyboard.press("Enter")
    expect(page.get_by_role("row").filter(has_text="made in the dashboard")).to_have_count(0)
    wait_until(lambda: stack.call("GET", "/v1/customers", made).status == 401, 10, "the revocation on the edge")


def test_tiers_slots_and_stripe_settings_made_in_the_page_are_what_the_api_answers(
    stack: Stack, account: dict[str, Any], session: Session
) -> None:
    key = account["live"]
    session.sign_in(key)
    page = session.page
    session.open("tiers")
    form = page.locator("form", has=page.get_by_role("heading", name="New tier"))
    form.get_by_label("Name").fill("gold")
    form.get_by_label("Budget (USD)").fill("40")
    form.get_by_label("Markup %").fill("12.5")
    form.get_by_role("button", name="Create tier").click()
    expect(page.get_by_role("row").filter(has_text="gold")).to_contain_text("$40.00")
    (tier,) = [t for t in stack.call("GET", "/v1/tiers", key).json()["data"] if t["name"] == "gold"]
    assert tier["budget_usd"] == 40 and tier["markup_pct"] == 12.5, tier

    session.open("slots")
    page.get_by_label("Name", exact=True).fill("cheap")
    page.get_by_label("Models, first choice first (one per line)").fill("fc:openai/gpt-4o-mini\nfc:openai/gpt-4o")
    page.get_by_role("button", name="Create slot").click()
    expect(page.get_by_role("row").filter(has_text="slot:cheap")).to_have_count(1)
    (slot,) = [s for s in stack.call("GET", "/v1/slots", key).json()["data"] if s["name"] == "cheap"]
    assert slot["models"] == ["fc:openai/gpt-4o-mini", "fc:openai/gpt-4o"], slot

    session.open("stripe")
    page.get_by_label("Stripe secret key (needed on every save)").fill("sk_test_" + "s" * 24)
    page.get_by_label("Meter event name").fill("ringside_billable")
    page.get_by_label("Value pushed").select_option("cost_cents")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Stripe settings saved.")).to_be_visible()
    settings = stack.call("GET", "/v1/billing/stripe", key).json()
    assert settings["meter_event_name"] == "ringside_billable" and settings["value"] == "cost_cents", settings
    assert settings["secret_key"].startswith("sk_test_") and "s" * 24 not in settings["secret_key"]
    expect(page.get_by_text(settings["secret_key"])).to_be_visible()  # only ever shown redacted


def test_a_key_revoked_elsewhere_sends_the_page_back_to_sign_in(
    stack: Stack, account: dict[str, Any], session: Session
) -> None:
    body = {"mode": "live", "scopes": ["api:read"], "name": "short-lived"}
    made = stack.call("POST", "/v1/api_keys", account["live"], body).json()
    session.sign_in(made["secret"])
    session.page.wait_for_load_state("networkidle")  # the overview's reads are done: the next one is ours
    assert stack.call("DELETE", f"/v1/api_keys/{made['id']}", account["live"]).status == 200
    wait_until(lambda: stack.call("GET", "/v1/customers", made["secret"]).status == 401, 10, "the revocation")
    # the next read (the customers page's, asked for by its URL: a refresh of the page already open may
    # have found the revocation first and taken the navigation away) is refused and signs the page out
    session.page.evaluate("location.hash = '#/customers'")
    expect(session.page.get_by_role("alert")).to_contain_text("stopped accepting the live key")
    expect(session.nav).to_have_count(0)
    assert session.page.evaluate("sessionStorage.getItem('ringside.dashboard')").count("sk_live_") == 0


def test_an_event_is_redelivered_from_the_endpoint_page(
    stack: Stack, account: dict[str, Any], session: Session
) -> None:
    key = account["live"]
    endpoint = stack.call("POST", "/v1/webhooks", key, {"url": RECEIVER, "events": ["customer.created"]}).json()
    stack.call("POST", "/v1/customers", key, {"external_id": "redelivered"})
    (event,) = stack.call("GET", "/v1/events?type=customer.created", key).json()["data"]
    session.sign_in(key)
    session.nav.get_by_role("link", name="Webhooks").click()
    session.page.get_by_role("link", name=RECEIVER).click()
    expect(session.page).to_have_url(re.compile(f"#/webhooks/{endpoint['id']}$"))
    with session.page.expect_response(lambda r: r.url.endswith(f"/deliveries/{event['id']}/redeliver")) as answer:
        session.page.get_by_role("button", name=f"Redeliver {event['id']}").click()
    assert answer.value.status == 200 and answer.value.json()["event_id"] == event["id"]
    expect(session.page.get_by_text(f"Redelivery of {event['id']} queued.")).to_be_visible()

    session.page.get_by_role("button", name="Rotate secret").click()
    expect(session.page.locator(".secret-value")).to_have_text(re.compile(r"^whsec_"))
    rotated = stack.call("GET", f"/v1/webhooks/{endpoint['id']}", key).json()
    assert rotated["previous_secret_expires_at"] is not None, rotated


def test_a_wrong_key_is_refused_with_a_visible_error(stack: Stack, session: Session) -> None:
    session.try_sign_in("sk_live_" + "x" * 40)
    error = session.page.get_by_role("alert")
    expect(error).to_contain_text("Ringside refused this key (invalid_api_key)")
    expect(session.nav).to_have_count(0)
    session.try_sign_in("not a key")
    expect(error).to_contain_text("neither an API key (sk_live_…, sk_test_…) nor the operator's admin key")
    expect(session.nav).to_have_count(0)


def test_a_read_only_key_sees_everything_and_can_change_nothing(
    stack: Stack, account: dict[str, Any], session: Session
) -> None:
    key = account["live"]
    customer = stack.call("POST", "/v1/customers", key, {"external_id": "look_only", "budget_usd": 7}).json()
    reader = stack.call("POST", "/v1/api_keys", key, {"mode": "live", "scopes": ["api:read"], "name": "reader"}).json()
    session.sign_in(reader["secret"])
    nav = session.nav
    expect(nav.get_by_role("link", name="Customers")).to_be_visible()
    for hidden in ("API keys", "Webhooks", "Stripe", "Account"):
        expect(nav.get_by_role("link", name=hidden)).to_have_count(0)

    session.open(f"customers/{customer['id']}")
    page = session.page
    expect(page.locator("#customer-budget")).to_have_text("$7.00")
    expect(page.get_by_role("note").first).to_contain_text("read-only")
    for button in ("Save limits", "Top up", "Block customer", "Mint token"):
        expect(page.get_by_role("button", name=button)).to_be_disabled()
    session.open("customers")
    expect(page.get_by_role("row").filter(has_text="look_only")).to_have_count(1)
    expect(page.get_by_text("New customer")).to_have_count(0)
    writes = [
        r
        for r in session.sent
        if r.method in ("POST", "DELETE") or (r.method == "PATCH" and "scope_probe" not in r.url)
    ]
    assert writes == []
    assert stack.call("GET", f"/v1/customers/{customer['id']}", key).json()["budget_usd"] == 7


def test_live_and_test_keys_switch_between_their_own_data(
    stack: Stack, account: dict[str, Any], session: Session
) -> None:
    stack.call("POST", "/v1/customers", account["live"], {"external_id": "only_live"})
    stack.call("POST", "/v1/customers", account["test"], {"external_id": "only_test"})
    session.sign_in(account["live"])
    page = session.page
    expect(page.get_by_role("group", name="Mode")).to_have_count(0)  # one key: no switch yet
    page.get_by_role("link", name="Add a test key").click()
    page.get_by_label("API key").fill(account["test"])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("group", name="Mode")).to_be_visible()
    expect(page.locator("#mode-badge")).to_have_text("Test data")
    session.open("customers")
    expect(page.get_by_role("row").filter(has_text="only_test")).to_have_count(1)
    expect(page.get_by_role("row").filter(has_text="only_live")).to_have_count(0)
    page.get_by_role("group", name="Mode").get_by_role("button", name="Live").click()
    expect(page.locator("#mode-badge")).to_have_text("Live")
    expect(page.get_by_role("row").filter(has_text="only_live")).to_have_count(1)
    expect(page.get_by_role("row").filter(has_text="only_test")).to_have_count(0)


def test_a_narrow_screen_gets_every_section_without_scrolling_sideways(
    browser: Browser, stack: Stack, account: dict[str, Any]
) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 800})
    session = Session(context, stack)
    session.sign_in(account["live"])
    for route in ("overview", "customers", "keys", "webhooks"):
        session.open(route)
        expect(session.page.get_by_role("heading", level=1)).to_be_visible()
        expect(session.page.get_by_text("Loading…")).to_have_count(0)  # measured with its tables in
        width = session.page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert width[0] <= width[1], (route, width)
    context.close()


def test_views_of_routes_this_edge_lacks_say_so(stack: Stack, account: dict[str, Any], session: Session) -> None:
    """/v1/requests and /v1/vector_stores: their views appear only when the edge serves them."""
    served = {
        path: stack.call("GET", path + "?limit=1", account["live"]).status != 404
        for path in ("/v1/requests", "/v1/vector_stores")
    }
    session.sign_in(account["live"])
    nav = session.nav
    expect(nav.get_by_role("link", name="Customers")).to_be_visible()
    expect(nav.get_by_role("link", name="Requests")).to_have_count(1 if served["/v1/requests"] else 0)
    expect(nav.get_by_role("link", name="Vector stores")).to_have_count(1 if served["/v1/vector_stores"] else 0)
    if not served["/v1/requests"]:
        expect(session.page.get_by_role("region", name="Requests and refusals").first).to_contain_text(
            "does not serve yet"
        )


def test_the_operator_key_creates_an_account_and_sees_nothing_else(stack: Stack, session: Session) -> None:
    session.sign_in(ADMIN_KEY)
    expect(session.page.locator("#mode-badge")).to_have_text("Operator")
    expect(session.nav.get_by_role("link")).to_have_text(["Accounts"])
    page = session.page
    page.get_by_label("Name", exact=True).fill("made by the operator")
    page.get_by_role("button", name="Create account").click()
    secrets_shown = page.locator(".secret-value")
    expect(secrets_shown).to_have_count(2)
    live, test = (secrets_shown.nth(i).text_content() or "" for i in range(2))
    assert live.startswith("sk_live_") and test.startswith("sk_test_")
    assert stack.call("GET", "/v1/customers", live).status == 200
    listed = stack.call("GET", "/v1/accounts?limit=100", ADMIN_KEY).json()["data"]
    (account,) = [a for a in listed if a["name"] == "made by the operator"]
    expect(page.get_by_role("row").filter(has_text=account["id"])).to_have_count(1)


def test_every_page_passes_axe_s_wcag_2_aa_checks(stack: Stack, account: dict[str, Any], session: Session) -> None:
    """Labels, names, roles, contrast, landmarks: axe-core (a dev dependency of the dashboard),
    evaluated in the page through the DevTools protocol, which the page's CSP does not govern."""
    assert AXE.exists(), "make node-packages installs axe-core into dashboard/node_modules"
    key = account["live"]
    customer = stack.call("POST", "/v1/customers", key, {"external_id": "axe", "budget_usd": 1}).json()
    stack.call("POST", "/v1/chat/completions", key, CHAT, headers={"FC-Customer": customer["id"]})
    endpoint = stack.call("POST", "/v1/webhooks", key, {"url": RECEIVER, "events": ["*"]}).json()
    page = session.page

    def violations() -> list[Any]:
        expect(page.get_by_text("Loading…")).to_have_count(0)
        page.evaluate(AXE.read_text())
        found: list[Any] = page.evaluate(
            f"axe.run(document, {AXE_RULES}).then(r => r.violations.map(v => [v.id, v.nodes[0].html]))"
        )
        return found

    page.goto(session.url)
    assert violations() == [], "sign-in"
    session.sign_in(key)
    routes = ["overview", "customers", f"customers/{customer['id']}", "keys", "tiers", "slots", "webhooks"]
    routes += [f"webhooks/{endpoint['id']}", "events", "stripe", "account"]
    for route in routes:
        session.open(route)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert violations() == [], route


def test_refusals_and_recent_calls_show_on_the_overview_and_the_customer_page(
    stack: Stack, account: dict[str, Any], session: Session
) -> None:
    """A 402 (no budget left) and a 429 (the customer's RPM) made through the API: the overview counts
    them beside its chart, and the customer's page lists them among its recent calls (DECISIONS 23:
    refusals come from /v1/requests)."""
    key = account["live"]
    broke = stack.call("POST", "/v1/customers", key, {"external_id": "broke", "budget_usd": 0}).json()
    busy = stack.call("POST", "/v1/customers", key, {"external_id": "busy", "rate_limit_rpm": 1}).json()
    answers = [
        stack.call("POST", "/v1/chat/completions", key, CHAT, headers={"FC-Customer": customer["id"]})
        for customer in (broke, busy, busy)
    ]
    assert [(a.status, a.json().get("error", {}).get("code")) for a in answers] == [
        (402, "customer_budget_exceeded"),
        (200, None),
        (429, "customer_rate_limit_exceeded"),
    ]

    session.sign_in(key)
    totals = session.page.get_by_role("region", name="Requests and refusals").locator("#refusal-totals")
    expect(totals).to_have_text(re.compile(r"^\s*2 refused among the last 3 calls \(402 × 1, 429 × 1\)\s*$"))

    session.open(f"customers/{busy['id']}")
    calls = session.page.get_by_role("region", name="Recent calls", exact=True)
    expect(calls.get_by_role("row").filter(has_text="429 customer_rate_limit_exceeded")).to_have_count(1)
    served = session.page.get_by_role("cell", name="200", exact=True)
    expect(calls.get_by_role("row").filter(has=served)).to_have_count(1)
    expect(calls.get_by_role("row").filter(has_text="402")).to_have_count(0)  # another customer's refusal

    session.nav.get_by_role("link", name="Requests").click()
    session.page.get_by_label("Status").select_option("402")
    rows = session.page.get_by_role("table", name="Recent calls").locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("402 customer_budget_exceeded")
    expect(rows.first.get_by_role("link", name=broke["id"])).to_be_visible()
