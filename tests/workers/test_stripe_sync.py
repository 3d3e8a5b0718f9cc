"""The Stripe usage sync end to end: the worker as its own process on a Temporal dev server, the
real SDK against the fake Stripe. SIGKILL of the worker mid-sync, then a restart: Stripe holds each
unit once (by identifier) and its totals equal the usage API's; a customer Stripe refuses for good
is recorded and announced without holding the others back."""

from __future__ import annotations

import pathlib
import signal
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.fakes.stripe_process import FakeStripe
from tests.harness import wait_until
from tests.workers.webhook_stack import WebhookStack

CUSTOMERS = 12
SYNC_DEADLINE_S = 120.0


@pytest.fixture(scope="module")
def fake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeStripe]:
    running = FakeStripe.start(pathlib.Path(tmp_path_factory.mktemp("stripe")))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def billing(tmp_path_factory: pytest.TempPathFactory, fake: FakeStripe) -> Iterator[WebhookStack]:
    extra = {"RINGSIDE_STRIPE_API_BASE": fake.base_url}
    running = WebhookStack.start("sqlite", tmp_path_factory.mktemp("sync"), extra)
    yield running
    running.destroy()


def trigger_sync(stack: WebhookStack) -> None:
    """`ringside billing sync`, once the worker has put the schedule in place."""

    def triggered() -> bool:
        done = subprocess.run(
            [sys.executable, "-m", "ringside_cli", "billing", "sync"],
            env=stack.stack.env,
            capture_output=True,
            timeout=60,
            check=False,
        )
        assert done.returncode in (0, 1), done.stderr
        return done.returncode == 0

    wait_until(triggered, SYNC_DEADLINE_S, "the sync schedule to be triggered", interval_s=0.5)


def syncs(stack: WebhookStack, key: str) -> dict[str, Any]:
    response = stack.stack.call("GET", "/v1/billing/stripe/syncs", key)
    assert response.status == 200, response.body
    return dict(response.json())


def finished_runs(stack: WebhookStack, key: str, count: int) -> list[dict[str, Any]]:
    def done() -> list[dict[str, Any]] | None:
        runs = [r for r in syncs(stack, key)["data"] if r["finished"]]
        return runs if len(runs) >= count else None

    return list(wait_until(done, SYNC_DEADLINE_S, f"{count} finished sync runs", interval_s=0.5))


def usage_tokens(stack: WebhookStack, key: str, customer_id: str) -> int:
    usage = stack.stack.call("GET", f"/v1/usage?customer_id={customer_id}", key).json()
    return int(usage["input_tokens"]) + int(usage["output_tokens"])


def test_settings_keep_the_key_to_themselves(billing: WebhookStack, fake: FakeStripe) -> None:
    key = billing.stack.test_key
    body = {"secret_key": fake.api_key, "meter_event_name": "ai_tokens", "value": "tokens"}
    put = billing.stack.call("PUT", "/v1/billing/stripe", key, body)
    assert put.status == 200, put.body
    got = billing.stack.call("GET", "/v1/billing/stripe", key).json()
    for shown in (put.json(), got):
        assert shown["secret_key"] != fake.api_key and shown["secret_key"].endswith(fake.api_key[-4:])
        assert (shown["meter_event_name"], shown["value"]) == ("ai_tokens", "tokens")
    assert fake.api_key not in billing.stack.call("GET", "/v1/billing/stripe", key).body.decode()
    bad = billing.stack.call("PUT", "/v1/billing/stripe", key, {**body, "value": "dollars"})
    assert bad.status == 400 and bad.json()["error"]["param"] == "value"
    other = billing.stack.new_account()["test"]
    assert billing.stack.call("GET", "/v1/billing/stripe", other).status == 404


def test_each_unit_reaches_stripe_once_through_a_worker_kill(billing: WebhookStack, fake: FakeStripe) -> None:
    key = billing.stack.test_key
    body = {"secret_key": fake.api_key, "meter_event_name": "ai_tokens", "value": "tokens"}
    assert billing.stack.call("PUT", "/v1/billing/stripe", key, body).status == 200
    customers = [billing.customer(key, stripe_customer_id=f"cus_S{i}")["id"] for i in range(CUSTOMERS)]
    gone = billing.customer(key, stripe_customer_id="cus_gone")["id"]
    for customer_id in [*customers, gone]:
        for _ in range(2):
            assert billing.chat(key, customer_id).status == 200
    fake.behave(reject_customers=["cus_gone"], hang_next=6, hang_s=1.5)
    before = fake.state()["requests"]

    trigger_sync(billing)
    wait_until(lambda: fake.state()["requests"] - before >= 3, SYNC_DEADLINE_S, "pushes in flight")
    assert billing.worker is not None
    billing.worker.send_signal(signal.SIGKILL)
    billing.worker.wait()
    billing.start_worker()
    [run] = finished_runs(billing, key, 1)

    stripe = fake.state()
    identifiers = [e["identifier"] for e in stripe["events"]]
    assert len(identifiers) == len(set(identifiers))
    assert stripe["duplicates"] >= 1  # pushed before the kill, resent after it, refused by identifier
    totals = fake.totals()
    for i, customer_id in enumerate(customers):
        assert totals[f"cus_S{i}"] == usage_tokens(billing, key, customer_id) > 0
    assert "cus_gone" not in totals
    assert run["status"] == "partial" and run["failed"] == 1
    assert [(e["customer_id"], e["code"]) for e in run["errors"]] == [(gone, "resource_missing")]
    assert syncs(billing, key)["failing_customers"] == 1
    failed = billing.stack.query(
        "SELECT COUNT(*) FROM events WHERE type = 'stripe.sync_failed' AND customer_id = ?", gone
    )
    assert failed == [(1,)]

    # New usage: the next run pushes only what is new; the refused customer fails again, quietly.
    # Stripe fails every try of the batch's 4 pushes (3 each: the SDK retries twice), so the
    # batch fails as a whole; Temporal retries it and the retry sends the same 4 once more.
    for customer_id in customers[:3]:
        assert billing.chat(key, customer_id).status == 200
    fake.behave(fail_next=4 * 3)
    before = fake.state()["requests"]
    trigger_sync(billing)
    second = finished_runs(billing, key, 2)[0]
    assert second["pushed"] == 3 and second["failed"] == 1 and fake.state()["duplicates"] == stripe["duplicates"]
    assert fake.state()["requests"] - before == 4 * 3 + 4
    totals = fake.totals()
    for i, customer_id in enumerate(customers):
        assert totals[f"cus_S{i}"] == usage_tokens(billing, key, customer_id)
    failed = billing.stack.query(
        "SELECT COUNT(*) FROM events WHERE type = 'stripe.sync_failed' AND customer_id = ?", gone
    )
    assert failed == [(1,)]
