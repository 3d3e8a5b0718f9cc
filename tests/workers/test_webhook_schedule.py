"""The delivery workflow's retry schedule on Temporal's time-skipping test server (three days run in
seconds), with the real activity against a real core process and a real receiver that is down."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from ringside_server.core_client import CoreClient
from ringside_server.netpolicy import AddressPolicy
from tests.harness import Stack
from tests.workers.webhook_receiver import Receiver, seed000_verify
from workers.webhooks.activities import DeliveryActivities
from workers.webhooks.http import delivery_session
from workers.webhooks.shared import RETRY_SCHEDULE_S, DeliveryInput, DeliveryResult
from workers.webhooks.workflows import WebhookDeliveryWorkflow


@pytest.fixture(scope="module")
def core_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    extra = {"RINGSIDE_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8"}
    stack = Stack("sqlite", tmp_path_factory.mktemp("schedule"), None, extra_env=extra).start()
    yield stack
    stack.destroy()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver.start()
    yield running
    running.stop()


async def _deliver(env: WorkflowEnvironment, stack: Stack, event_id: str, endpoint_id: str) -> DeliveryResult:
    core = CoreClient(f"127.0.0.1:{stack.grpc_port}", stack.internal_token)
    session = delivery_session(AddressPolicy.parse("127.0.0.0/8"))
    queue = f"webhooks-{uuid.uuid4()}"
    try:
        async with Worker(
            env.client,
            task_queue=queue,
            workflows=[WebhookDeliveryWorkflow],
            activities=[DeliveryActivities(core, session).attempt],
        ):
            return await env.client.execute_workflow(
                WebhookDeliveryWorkflow.run,
                DeliveryInput(event_id, endpoint_id),
                id=f"webhook-test-{uuid.uuid4()}",
                task_queue=queue,
                execution_timeout=timedelta(days=10),
            )
    finally:
        await session.close()
        await core.close()


def _event(stack: Stack, receiver: Receiver) -> tuple[str, str, str]:
    """An endpoint pointing at `receiver` and one event for it → (event id, endpoint id, secret)."""
    key = stack.new_account()["live"]
    endpoint = stack.call("POST", "/v1/webhooks", key, {"url": receiver.url, "events": ["customer.created"]}).json()
    customer = stack.call("POST", "/v1/customers", key, {"external_id": uuid.uuid4().hex}).json()
    [(event_id,)] = stack.query("SELECT id FROM events WHERE customer_id = ?", customer["id"])
    return event_id, endpoint["id"], endpoint["secret"]


def _attempts(stack: Stack, endpoint_id: str) -> list[tuple[int, int, bool, int, int]]:
    return [
        (int(a), int(c), bool(s), int(h), int(n))
        for a, c, s, h, n in stack.query(
            "SELECT attempt, created, succeeded, http_status, next_retry_at FROM webhook_delivery_attempts "
            "WHERE endpoint_id = ? ORDER BY id",
            endpoint_id,
        )
    ]


def _on_schedule(attempts: list[tuple[int, int, bool, int, int]]) -> bool:
    """Each wait is the schedule's, plus at most the attempt's own duration (real time, < 2 s here)."""
    gaps = [later[1] - earlier[1] for earlier, later in itertools.pairwise(attempts)]
    return all(wait <= gap <= wait + 2 for gap, wait in zip(gaps, RETRY_SCHEDULE_S, strict=False))


async def test_a_receiver_that_comes_back_gets_the_event_on_schedule(
    skipping: WorkflowEnvironment, core_stack: Stack, receiver: Receiver
) -> None:
    event_id, endpoint_id, secret = _event(core_stack, receiver)
    receiver.script = [500, 503, 500, 302]  # a redirect is not followed and does not count
    result = await _deliver(skipping, core_stack, event_id, endpoint_id)
    assert result == DeliveryResult(True, 5, "delivered")
    attempts = _attempts(core_stack, endpoint_id)
    assert [(a[0], a[2], a[3]) for a in attempts] == [
        (1, False, 500),
        (2, False, 503),
        (3, False, 500),
        (4, False, 302),
        (5, True, 200),
    ]
    # 5 s, 5 min, 30 min, 2 h of workflow time (plus the attempt's own real second or so)
    assert _on_schedule(attempts)
    assert [a[4] - a[1] for a in attempts[:4]] == list(RETRY_SCHEDULE_S[:4]) and attempts[4][4] == 0
    # every attempt is signed with its own time, and the last one verifies as seed 000 does
    assert len(receiver.received) == 5 and seed000_verify(
        secret, receiver.received[-1].headers, receiver.received[-1].body
    )


async def test_three_days_of_failures_disable_the_endpoint(
    skipping: WorkflowEnvironment, core_stack: Stack, receiver: Receiver
) -> None:
    event_id, endpoint_id, _ = _event(core_stack, receiver)
    receiver.status = 500
    result = await _deliver(skipping, core_stack, event_id, endpoint_id)
    assert result == DeliveryResult(False, len(RETRY_SCHEDULE_S) + 1, "endpoint_disabled")
    attempts = _attempts(core_stack, endpoint_id)
    assert len(attempts) == len(RETRY_SCHEDULE_S) + 1 and not any(a[2] for a in attempts)
    assert _on_schedule(attempts) and attempts[-1][1] - attempts[0][1] >= 3 * 86_400
    [(enabled,)] = core_stack.query("SELECT enabled FROM webhook_endpoints WHERE id = ?", endpoint_id)
    assert not enabled
    disabled = core_stack.query(
        "SELECT body FROM events WHERE type = 'webhook_endpoint.disabled' AND body LIKE ?", f"%{endpoint_id}%"
    )
    assert len(disabled) == 1
