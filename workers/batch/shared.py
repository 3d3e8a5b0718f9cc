"""Inputs and outputs of the batch workflow (ids only: the activities read the rest from the core
and the file store)."""

from __future__ import annotations

from dataclasses import dataclass

WORKFLOW_NAME = "RingsideBatch"


@dataclass
class BatchInput:
    batch_id: str


@dataclass
class RunOutcome:
    """How the lines' run ended: `completed` (every line has its result), `cancelled`, `expired`
    (the completion window closed first), `failed` (the batch could not run: `error_code`),
    `finished` (the core has its outcome already: nothing to do), or `forwarded` (the provider's
    batch API runs it: polled until it ends, then collected)."""

    status: str
    error_code: str = ""
    error_message: str = ""


@dataclass
class PollOutcome:
    """The provider's batch status, and how long to wait before the next poll."""

    status: str
    wait_s: float


@dataclass
class FinishInput:
    request: BatchInput
    outcome: RunOutcome


def workflow_id(owner: str, batch_id: str) -> str:
    """Deterministic: the owner (`cus_…`, or the account's `acct_…`) leads, so the Temporal UI finds
    a customer's batches by prefix."""
    return f"batch-{owner}-{batch_id}"
