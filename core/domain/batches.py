"""Batches (OpenAI's Batch API, issue 19): what the core keeps of a batch — its owner, the key whose
calls its lines are, its status and counts, its files. The lines themselves are the worker's (read
from the input file); each is a metered call of its own, on the ledger like any other."""

from __future__ import annotations

from dataclasses import dataclass

from ringside_server.batches.lines import COMPLETION_WINDOWS, ENDPOINTS, MAX_LINES

__all__ = ["COMPLETION_WINDOWS", "ENDPOINTS", "FINAL", "MAX_LINES", "RUNNING", "Batch", "BatchUpdate"]
# Statuses a worker still has work in; the rest are final.
RUNNING = ("validating", "in_progress", "finalizing", "cancelling")
FINAL = ("completed", "failed", "expired", "cancelled")


@dataclass(slots=True)
class Batch:
    """A batch (`batch_…`); `customer_id` None for the account's own."""

    id: str
    account_id: str
    livemode: bool
    customer_id: str | None
    key_id: str  # the creating key: each line is admitted as its call
    endpoint: str
    input_file_id: str
    completion_window: str
    status: str
    metadata_json: str
    total: int
    created: int
    expires_at: int
    in_progress_at: int = 0
    completed: int = 0
    failed: int = 0
    output_file_id: str = ""
    error_file_id: str = ""
    errors_json: str = ""
    finalizing_at: int = 0
    completed_at: int = 0
    failed_at: int = 0
    expired_at: int = 0
    cancelling_at: int = 0
    cancelled_at: int = 0

    def visible(self, account_id: str, livemode: bool, customer_id: str | None) -> bool:
        """Seen by this tenant, as that customer (None: account-level, which sees every batch)."""
        return (
            self.account_id == account_id
            and self.livemode == livemode
            and (customer_id is None or self.customer_id == customer_id)
        )


@dataclass(frozen=True, slots=True)
class BatchUpdate:
    """A batch's new status, counts and files (the row is rewritten whole but for its fixed fields)."""

    batch: Batch
