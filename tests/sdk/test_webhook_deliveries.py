"""`webhooks.verify` on real deliveries: the worker delivers events through a real Temporal dev
server to a receiver on loopback; the SDK verifies them as a developer's endpoint would, through a
secret rotation, and the SDK's deliveries and redeliver calls see the same attempts."""

from __future__ import annotations

import time

import pytest

from ringside import Ringside, SignatureVerificationError, webhooks
from ringside.types import WebhookDelivery
from tests.harness import wait_until
from tests.workers.webhook_stack import WebhookStack

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def hooks(sqlite_hooks: WebhookStack) -> WebhookStack:
    """SQLite only: the SDK's side of deliveries (tests/workers/test_webhooks_e2e.py runs both stores,
    and shares this session stack)."""
    return sqlite_hooks


def test_real_deliveries_verify_through_a_rotation(hooks: WebhookStack) -> None:
    client = Ringside(api_key=hooks.stack.new_account()["live"], base_url=hooks.stack.base_url + "/v1")
    endpoint = client.webhooks.create(url=hooks.receiver.url, events=["customer.created", "customer.updated"])
    assert endpoint.secret
    customer = client.customers.create(external_id="sdk-hooks")
    [created] = hooks.wait_for(1, "customer.created", customer.id)
    assert webhooks.verify(created.body, created.headers, endpoint.secret) is True
    assert client.webhooks.verify(created.body, created.headers["x-fc-signature"], endpoint.secret) is True
    with pytest.raises(SignatureVerificationError):
        webhooks.verify(created.body.replace(b"sdk-hooks", b"sdk-hookz"), created.headers, endpoint.secret)
    with pytest.raises(SignatureVerificationError):
        webhooks.verify(created.body, created.headers, endpoint.secret, now=time.time() + 301)

    rotated = client.webhooks.rotate_secret(endpoint.id)
    assert rotated.secret
    client.customers.update(customer.id, name="renamed")
    [updated] = hooks.wait_for(1, "customer.updated", customer.id)
    assert webhooks.verify(updated.body, updated.headers, rotated.secret) is True
    assert webhooks.verify(updated.body, updated.headers, endpoint.secret) is True  # the old one, by webhook-signature
    with pytest.raises(SignatureVerificationError):
        webhooks.verify(updated.body, updated.headers["x-fc-signature"], endpoint.secret)

    delivered = {created.event["id"], updated.event["id"]}

    def both_recorded() -> list[WebhookDelivery] | None:
        # an attempt is recorded once the worker has the receiver's answer, just after the receiver saw it
        found = list(client.webhooks.deliveries(endpoint.id))
        return found if {attempt.event_id for attempt in found} == delivered else None

    attempts = wait_until(both_recorded, 15, "both attempts recorded")
    again = client.webhooks.redeliver(endpoint.id, attempts[-1].id)
    assert again.event_id == attempts[-1].event_id
    redelivered = hooks.wait_for(2, attempts[-1].event_type or "", customer.id)
    assert webhooks.verify(redelivered[-1].body, redelivered[-1].headers, rotated.secret)
