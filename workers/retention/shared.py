"""Inputs and outputs of the retention purge (one dataclass each, extended backwards-compatibly)."""

from __future__ import annotations

from dataclasses import dataclass

WORKFLOW_NAME = "RetentionPurge"
WORKFLOW_ID = "retention-purge"
SCHEDULE_ID = "ringside-retention"


@dataclass
class PurgeInput:
    """Why this purge runs (a schedule, an operator)."""

    reason: str = "schedule"


@dataclass
class PurgeResult:
    """Each kind was purged of what was created before these unix times."""

    events_before: int
    delivery_attempts_before: int
    outbox_before: int
    idempotency_keys_before: int
    requests_before: int = 0  # usage records and request log rows
