"""The fake Stripe answers the real SDK as Stripe does, and the sync sorts those answers right."""

from __future__ import annotations

import pathlib
from collections.abc import Iterator

import pytest
import stripe

from ringside.core.v1 import billing_pb2
from tests.fakes.stripe_process import API_KEY, FakeStripe
from workers.billing.stripe_push import Answer, client, send


@pytest.fixture(scope="module")
def fake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeStripe]:
    running = FakeStripe.start(pathlib.Path(tmp_path_factory.mktemp("stripe")))
    yield running
    running.stop()


def _push(identifier: str, customer: str = "cus_S1", value: int = 7, key: str = API_KEY) -> billing_pb2.StripePush:
    return billing_pb2.StripePush(
        customer_id="cus_ringside",
        stripe_customer_id=customer,
        identifier=identifier,
        value=value,
        timestamp=1_790_000_000,
        event_name="ai_usage",
        secret_key=key,
    )


def test_an_event_is_kept_once_by_identifier(fake: FakeStripe) -> None:
    assert send(_push("id-once"), fake.base_url) == Answer("pushed")
    assert send(_push("id-once"), fake.base_url) == Answer("duplicate")
    events = [e for e in fake.state()["events"] if e["identifier"] == "id-once"]
    assert len(events) == 1 and events[0]["payload"] == {"stripe_customer_id": "cus_S1", "value": "7"}
    assert events[0]["timestamp"] == 1_790_000_000 and events[0]["event_name"] == "ai_usage"


def test_the_sdk_retries_a_500_with_its_idempotency_key(fake: FakeStripe) -> None:
    fake.behave(fail_next=2)
    before = fake.state()["requests"]
    assert send(_push("id-retried"), fake.base_url) == Answer("pushed")
    assert fake.state()["requests"] - before == 3
    fake.behave(fail_next=3)  # more than the SDK's own retries: left to the activity's retry policy
    answer = send(_push("id-failing"), fake.base_url)
    assert answer.outcome == "transient"
    fake.behave(fail_next=0)


def test_permanent_refusals(fake: FakeStripe) -> None:
    fake.behave(reject_customers=["cus_gone"])
    gone = send(_push("id-gone", customer="cus_gone"), fake.base_url)
    assert (gone.outcome, gone.code) == ("failed", "resource_missing") and "cus_gone" in gone.message
    bad_key = send(_push("id-bad-key", key="sk_test_" + "x" * 24), fake.base_url)
    assert bad_key.outcome == "failed" and "Invalid API Key" in bad_key.message


def test_idempotency_keys_replay_and_refuse_another_body(fake: FakeStripe) -> None:
    sdk = client(API_KEY, fake.base_url)
    params = {"event_name": "ai_usage", "payload": {"stripe_customer_id": "cus_S2", "value": "1"}}
    first = sdk.v1.billing.meter_events.create(params, {"idempotency_key": "k-1"})
    again = sdk.v1.billing.meter_events.create(params, {"idempotency_key": "k-1"})
    assert first.identifier == again.identifier
    with pytest.raises(stripe.IdempotencyError):
        sdk.v1.billing.meter_events.create({**params, "event_name": "other"}, {"idempotency_key": "k-1"})
