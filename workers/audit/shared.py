"""Inputs and outputs of the ledger audit (one dataclass each, extended backwards-compatibly)."""

from __future__ import annotations

from dataclasses import dataclass

from workers import task_queues

TASK_QUEUE = task_queues.MAINTENANCE

WORKFLOW_NAME = "LedgerAudit"
SCHEDULE_ID = "ringside-ledger-audit"


@dataclass
class AuditInput:
    """Why this audit runs (a schedule, an operator)."""

    reason: str = "schedule"


@dataclass
class AuditResult:
    transfer_count: int
    imbalance_nano_usd: int
    overposted_holds: int
    multiply_resolved_holds: int
    usage_ledger_mismatches: int
    invalid_transfers: int
    memory_mismatches: int
    open_holds: int
    ok: bool
    ledger_totals_mismatches: int = 0
