"""A vector store's page in the dashboard (issue 23): its files and their status, its recent
queries and its stats, all made through the API against a stack with the rag role (the local
embedding model, no worker: files stay in progress); migrations only where the edge serves them."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.test_dashboard import Session
from tests.e2e.test_chat_completions import client
from tests.harness import Stack

HANDBOOK = b"# Refunds\n\nA refund is paid within 14 days of the request, to the card that paid.\n"


@pytest.fixture
def session(browser: Browser, rag_stack: Stack) -> Iterator[Session]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = Session(context, rag_stack)
    yield opened
    assert not [line for line in opened.console if "Content Security Policy" in line], opened.console
    context.close()


def test_a_store_page_shows_its_files_queries_and_stats(rag_stack: Stack, session: Session) -> None:
    key = rag_stack.new_account()["live"]
    sdk = client(rag_stack, key)
    store = sdk.vector_stores.create(name="handbook-" + secrets.token_hex(3))
    uploaded = sdk.files.create(file=("refunds.md", HANDBOOK, "text/markdown"), purpose="assistants")
    # ingest runs on the worker (Temporal), which this stack does not start: the file stays in
    # progress, which is what the page must show for it
    attached = sdk.vector_stores.files.create(file_id=uploaded.id, vector_store_id=store.id)
    assert attached.status == "in_progress"
    found = sdk.vector_stores.search(store.id, query="how long does a refund take")
    assert found.data == []  # nothing ingested yet: a logged query with no result
    migrations = rag_stack.call("GET", f"/v1/vector_stores/{store.id}/migrations", key).status

    session.sign_in(key)
    session.nav.get_by_role("link", name="Vector stores").click()
    session.page.get_by_role("link", name=store.name).click()
    page = session.page
    expect(page.get_by_role("heading", level=1)).to_have_text(store.name)
    files = page.get_by_role("table", name="Files").locator("tbody tr")
    expect(files).to_have_count(1)
    expect(files.first).to_contain_text(uploaded.id)
    expect(files.first).to_contain_text("in_progress")
    queries = page.get_by_role("table", name="Recent queries").locator("tbody tr")
    expect(queries).to_have_count(1)
    expect(queries.first).to_contain_text("how long does a refund take")
    expect(page.locator("#store-query-count")).to_have_text("1")
    expect(page.get_by_text("Queries with no result")).to_be_visible()
    # migrations are listed only when the edge answers their route
    expect(page.get_by_role("heading", name="Migrations")).to_have_count(0 if migrations == 404 else 1)
