"""Inputs and outputs of webhook delivery (one dataclass each, extended backwards-compatibly)."""

from __future__ import annotations

from dataclasses import dataclass

WORKFLOW_NAME = "WebhookDelivery"
ACTIVITY_NAME = "deliver_webhook"
# API.md "Webhooks": the waits after each failed attempt (5 s … 24 h, ~3.1 days in all).
RETRY_SCHEDULE_S: tuple[int, ...] = (5, 300, 1800, 7200, 18_000, 36_000, 50_400, 72_000, 86_400)
POST_TIMEOUT_S = 15.0
# One attempt: read the target, POST (≤ 15 s), record the attempt.
ATTEMPT_TIMEOUT_S = 45.0


def workflow_id(customer_id: str, event_id: str, endpoint_id: str, redelivery_of: str = "") -> str:
    """Deterministic, so a replayed relay cannot start a delivery twice; it begins with the customer
    so an operator lists one customer's deliveries with `WorkflowId STARTS_WITH "webhook-cus_…"`."""
    base = f"webhook-{customer_id or 'account'}-{event_id}-{endpoint_id}"
    return f"{base}-{redelivery_of}" if redelivery_of else base


@dataclass
class DeliveryInput:
    event_id: str
    endpoint_id: str
    customer_id: str = ""
    event_type: str = ""


@dataclass
class DeliveryResult:
    delivered: bool
    attempts: int
    # "delivered" | "endpoint_inactive" (deleted or disabled) | "endpoint_disabled" (by these
    # failures) | "schedule_exhausted"
    outcome: str


@dataclass
class AttemptInput:
    event_id: str
    endpoint_id: str
    attempt: int
    # Workflow time of this attempt and of the next one if it fails (0 = none), unix seconds.
    attempted_at: int
    next_retry_at: int


@dataclass
class AttemptResult:
    delivered: bool
    # The endpoint is gone, disabled, or was disabled by this failure: no more attempts.
    stop: bool
    http_status: int = 0
    error: str = ""
    endpoint_disabled: bool = False
