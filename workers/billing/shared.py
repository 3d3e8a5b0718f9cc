"""Inputs and outputs of the billing workflows and activities (one dataclass each)."""

from __future__ import annotations

from dataclasses import dataclass

ROLLOVER_SCHEDULE_ID = "ringside-billing-rollover"
ROLLOVER_WORKFLOW_ID = "billing-period-rollover"
SYNC_SCHEDULE_ID = "ringside-stripe-usage-sync"
SYNC_WORKFLOW_ID = "stripe-usage-sync"


@dataclass
class RolloverInput:
    """Why this rollover runs (a schedule, an operator)."""

    reason: str = "schedule"


@dataclass
class RolloverResult:
    closed: int = 0
    waiting: int = 0
    rounds: int = 0


@dataclass
class CloseInput:
    limit: int = 200


@dataclass
class CloseResult:
    closed: int
    waiting: int
    has_more: bool


@dataclass
class SyncInput:
    reason: str = "schedule"


@dataclass
class SyncResult:
    pushed: int = 0
    duplicates: int = 0
    failed: int = 0
    transient: int = 0
    batches: int = 0


@dataclass
class SyncBatchInput:
    run_id: str
    after_customer_id: str = ""
    limit: int = 100


@dataclass
class SyncBatchResult:
    pushed: int = 0
    duplicates: int = 0
    failed: int = 0
    transient: int = 0
    last_customer_id: str = ""
    has_more: bool = False


@dataclass
class FinishSyncInput:
    run_id: str
