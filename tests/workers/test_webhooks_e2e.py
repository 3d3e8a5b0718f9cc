"""Webhooks end to end on real processes: events written with the ledger change, relayed into a real
Temporal dev server, delivered by the worker, verified by seed 000's receiver logic and by a Standard
Webhooks verifier; what the stored records decide on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from temporalio.client import Client

from tests.conftest import backend_of
from tests.harness import wait_until
from tests.workers.webhook_receiver import seed000_verify, standard_verify
from tests.workers.webhook_stack import WebhookStack

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def hooks(request: pytest.FixtureRequest) -> WebhookStack:
    """On SQLite; on PostgreSQL too for the tests marked `both_backends` (what the outbox and the
    fired-events records decide: once per crossing, once through a kill or a restart). The session's
    (tests/conftest.py), shared with tests/sdk/test_webhook_deliveries.py."""
    running: WebhookStack = request.getfixturevalue(f"{backend_of(request)}_hooks")
    return running


def _ext() -> str:
    return "ext_" + secrets.token_hex(4)


def test_deliveries_verify_with_both_schemes_and_tampering_fails(hooks: WebhookStack) -> None:
    key = hooks.stack.new_account()["live"]
    secret = hooks.endpoint(key, ["customer.created"])["secret"]
    customer = hooks.customer(key, external_id="ext:user_42", budget_usd=25, metadata={"plan": "pro"})
    [delivery] = hooks.wait_for(1, "customer.created", customer["id"])
    event = delivery.event
    assert event["id"].startswith("evt_") and event["object"] == "event" and event["livemode"] is True
    assert event["data"]["customer"] == {
        "id": customer["id"],
        "external_id": "ext:user_42",
        "budget_usd": 25,
        "spent_usd": 0,
        "metadata": {"plan": "pro"},
    }
    assert delivery.headers["webhook-id"] == event["id"]
    assert seed000_verify(secret, delivery.headers, delivery.body)
    assert standard_verify(secret, delivery.headers, delivery.body)

    tampered = delivery.body.replace(b'"plan":"pro"', b'"plan":"max"')
    assert not seed000_verify(secret, delivery.headers, tampered)
    assert not standard_verify(secret, delivery.headers, tampered)
    later = time.time() + 301
    assert not seed000_verify(secret, delivery.headers, delivery.body, now=later)
    assert not standard_verify(secret, delivery.headers, delivery.body, now=later)
    assert not seed000_verify("whsec_" + "A" * 44, delivery.headers, delivery.body)


def test_rotation_overlap_signs_with_new_and_old_secrets(hooks: WebhookStack) -> None:
    key = hooks.stack.new_account()["live"]
    endpoint = hooks.endpoint(key, ["customer.updated"])
    old = endpoint["secret"]
    new = hooks.stack.call("POST", f"/v1/webhooks/{endpoint['id']}/rotate_secret", key).json()["secret"]
    customer = hooks.customer(key, external_id=_ext())
    hooks.stack.call("PATCH", f"/v1/customers/{customer['id']}", key, {"name": "renamed"})
    [delivery] = hooks.wait_for(1, "customer.updated", customer["id"])
    # seed 000's receiver, once it has the new secret, verifies (the one v1= is the newest secret)
    assert seed000_verify(new, delivery.headers, delivery.body)
    assert delivery.headers["x-fc-signature"].count("v1=") == 1
    # Standard Webhooks lists both live secrets: a receiver still on the old one keeps verifying
    assert len(delivery.headers["webhook-signature"].split(" ")) == 2
    assert standard_verify(new, delivery.headers, delivery.body)
    assert standard_verify(old, delivery.headers, delivery.body)


def _drive(hooks: WebhookStack, key: str, customer_id: str, calls: int) -> list[int]:
    with ThreadPoolExecutor(max_workers=8) as pool:
        return [r.status for r in pool.map(lambda _: hooks.chat(key, customer_id), range(calls))]


@pytest.mark.both_backends
def test_thresholds_fire_once_per_crossing_and_a_raised_cap_rearms(hooks: WebhookStack) -> None:
    key = hooks.stack.new_account()["test"]  # the test model serves every call of a test key
    hooks.endpoint(key, ["wallet.low", "budget.exceeded"])
    probe = hooks.customer(key, external_id=_ext())
    assert hooks.chat(key, probe["id"]).status == 200
    one_call = wait_until(
        lambda: hooks.stack.call("GET", f"/v1/customers/{probe['id']}", key).json()["spend_usd_mtd"], 15, "spend"
    )
    customer = hooks.customer(key, external_id=_ext(), budget_usd=str(round(one_call * 10, 9)))
    statuses: list[int] = []
    for _ in range(10):  # concurrent calls until the cap refuses them
        statuses += _drive(hooks, key, customer["id"], 16)
        if statuses.count(402) >= 8:
            break
    assert 200 in statuses and 402 in statuses
    [low] = hooks.wait_for(1, "wallet.low", customer["id"])
    [exceeded] = hooks.wait_for(1, "customer.budget_exceeded", customer["id"])
    assert low.event["data"]["trigger"] == "budget_threshold"
    assert exceeded.event["data"]["customer"]["budget_usd"] == float(customer["budget_usd"])

    # more refused calls fire nothing new. A call may still be admitted now and then: holds are
    # taken at the estimate and settle lower, which gives room back under the cap.
    assert 402 in _drive(hooks, key, customer["id"], 8)
    time.sleep(1.5)  # give a wrong second event every chance to arrive (the relay polls every 0.5 s)
    assert len(hooks.receiver.events("wallet.low", customer["id"])) == 1
    assert len(hooks.receiver.events("customer.budget_exceeded", customer["id"])) == 1

    # a raised cap re-arms customer.budget_exceeded; spending past it fires it again
    raised = str(round(one_call * 14, 9))
    assert hooks.stack.call("PATCH", f"/v1/customers/{customer['id']}", key, {"budget_usd": raised}).status == 200
    for _ in range(10):
        if 402 in _drive(hooks, key, customer["id"], 8):
            break
    hooks.wait_for(2, "customer.budget_exceeded", customer["id"])


@pytest.mark.both_backends
def test_deliveries_are_logged_and_redelivered_with_the_same_event_id(hooks: WebhookStack) -> None:
    key = hooks.stack.new_account()["live"]
    endpoint = hooks.endpoint(key, ["customer.deleted"])
    customer = hooks.customer(key, external_id=_ext())
    assert hooks.stack.call("DELETE", f"/v1/customers/{customer['id']}", key).status == 200
    [first] = hooks.wait_for(1, "customer.deleted", customer["id"])
    log = wait_until(
        lambda: (r := hooks.stack.call("GET", f"/v1/webhooks/{endpoint['id']}/deliveries", key).json())["data"] and r,
        15,
        "the attempt log",
    )
    [attempt] = log["data"]
    assert attempt["status"] == "succeeded" and attempt["http_status"] == 200 and attempt["attempt"] == 1
    assert attempt["event_id"] == first.event["id"] and attempt["next_retry_at"] is None
    again = hooks.stack.call("POST", f"/v1/webhooks/{endpoint['id']}/deliveries/{attempt['id']}/redeliver", key)
    assert again.status == 200, again.body
    second = hooks.wait_for(2, "customer.deleted", customer["id"])[1]
    assert second.headers["webhook-id"] == first.headers["webhook-id"] == first.event["id"]


@pytest.mark.both_backends
def test_a_killed_core_and_a_replayed_relay_still_deliver_once(hooks: WebhookStack) -> None:
    key = hooks.stack.new_account()["live"]
    hooks.endpoint(key, ["customer.created"])
    hooks.stop_worker()
    customer = hooks.customer(key, external_id=_ext())  # committed with its outbox row; nobody relays
    hooks.kill_core()
    hooks.restart_core()
    hooks.start_worker()
    [delivery] = hooks.wait_for(1, "customer.created", customer["id"])
    # the relay replays the entry (as if it died between starting the workflow and the mark): the
    # deterministic workflow id makes the second start a no-op
    hooks.execute("UPDATE outbox SET relayed_at = NULL WHERE event_id = ?", delivery.event["id"])
    wait_until(
        lambda: hooks.stack.query("SELECT relayed_at FROM outbox WHERE event_id = ?", delivery.event["id"])[0][0],
        15,
        "the relay to mark the entry again",
    )
    time.sleep(1.0)
    assert len(hooks.receiver.events("customer.created", customer["id"])) == 1
    assert json.loads(delivery.body)["id"] == delivery.headers["webhook-id"]


@pytest.mark.both_backends
def test_a_restart_neither_refires_nor_forgets_a_fired_event(hooks: WebhookStack) -> None:
    key = hooks.stack.new_account()["test"]
    hooks.endpoint(key, ["wallet.low", "customer.budget_exceeded"])
    customer = hooks.customer(key, external_id=_ext(), budget_usd="0.00001")
    for _ in range(20):
        if 402 in _drive(hooks, key, customer["id"], 4):
            break
    hooks.wait_for(1, "customer.budget_exceeded", customer["id"])
    time.sleep(1.0)
    low_before = len(hooks.receiver.events("wallet.low", customer["id"]))
    hooks.kill_core()
    hooks.restart_core()
    refused = wait_until(lambda: (r := hooks.chat(key, customer["id"])).status == 402 and r, 30, "a refusal")
    assert refused.json()["error"]["code"] == "customer_budget_exceeded"
    state = hooks.stack.call("GET", f"/v1/customers/{customer['id']}", key).json()
    assert state["budget_status"] == "exceeded"  # remembered across the restart
    time.sleep(1.5)
    assert len(hooks.receiver.events("customer.budget_exceeded", customer["id"])) == 1
    assert len(hooks.receiver.events("wallet.low", customer["id"])) == low_before <= 1


@pytest.mark.both_backends
def test_wallet_threshold_fires_per_crossing_and_only_a_topup_back_over_rearms(hooks: WebhookStack) -> None:
    key = hooks.stack.new_account()["test"]
    hooks.endpoint(key, ["wallet.low"])
    probe = hooks.customer(key, external_id=_ext(), wallet={"enabled": True})
    hooks.stack.call("POST", f"/v1/customers/{probe['id']}/wallet/topup", key, {"amount_usd": 1})
    assert hooks.chat(key, probe["id"]).status == 200
    one_call = 1 - float(hooks.stack.call("GET", f"/v1/customers/{probe['id']}/wallet", key).json()["balance_usd"])

    def usd(calls: float) -> str:
        return f"{one_call * calls:.9f}"

    customer = hooks.customer(key, external_id=_ext(), wallet={"enabled": True, "low_threshold_usd": usd(5)})
    assert customer["wallet"]["low_threshold_usd"] == float(usd(5))

    def top_up(calls: float) -> None:
        response = hooks.stack.call(
            "POST", f"/v1/customers/{customer['id']}/wallet/topup", key, {"amount_usd": usd(calls)}
        )
        assert response.status == 200, response.body

    top_up(10)
    for _ in range(7):  # 10 → 3 calls' worth: crosses 5 once
        assert hooks.chat(key, customer["id"]).status == 200
    [low] = hooks.wait_for(1, "wallet.low", customer["id"])
    assert low.event["data"]["trigger"] == "wallet_threshold"
    top_up(1)  # 4: still below, not re-armed
    assert hooks.chat(key, customer["id"]).status == 200
    top_up(4)  # 7: back over the threshold, re-armed
    for _ in range(3):  # 7 → 4: crosses again
        assert hooks.chat(key, customer["id"]).status == 200
    hooks.wait_for(2, "wallet.low", customer["id"])
    time.sleep(1.0)
    assert len(hooks.receiver.events("wallet.low", customer["id"])) == 2


async def _deliveries_of(address: str, customer_id: str) -> list[str]:
    client = await Client.connect(address)
    return [w.id async for w in client.list_workflows(f'RingsideCustomerId = "{customer_id}"')]


def test_an_operator_finds_a_customers_deliveries_in_temporal(hooks: WebhookStack) -> None:
    key = hooks.stack.new_account()["live"]
    endpoint = hooks.endpoint(key, ["customer.created", "customer.updated"])
    customer = hooks.customer(key, external_id=_ext())
    hooks.stack.call("PATCH", f"/v1/customers/{customer['id']}", key, {"name": "n"})
    hooks.wait_for(1, "customer.updated", customer["id"])
    address = f"127.0.0.1:{hooks.temporal_port}"
    found = wait_until(
        lambda: (ids := asyncio.run(_deliveries_of(address, customer["id"]))) and len(ids) == 2 and ids,
        30,
        "the search attribute to index both deliveries",
    )
    assert all(i.startswith(f"webhook-{customer['id']}-evt_") and i.endswith(endpoint["id"]) for i in found)
