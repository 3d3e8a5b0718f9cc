"""The task queue of each workflow family: each family scales on its own (more worker processes
started with RINGSIDE_WORKER_FAMILIES naming only it), and a backlog in one never delays another.

Webhook deliveries keep the queue every workflow shared before families existed ("ringside"):
deliveries still retrying on it at an upgrade finish there. The scheduled families moved; their
schedules are updated to the new queue by the worker's start (`ensure_schedules`).
"""

from __future__ import annotations

WEBHOOKS = "ringside"
BILLING = "ringside-billing"  # period rollover, Stripe usage sync
MAINTENANCE = "ringside-maintenance"  # ledger audit, retention purge
BATCHES = "ringside-batches"  # a batch's lines, run through the metered call
RUNS = "ringside-runs"  # Assistants runs (they wait on model calls)
RAG_INGEST = "ringside-rag"  # polled by the rag role, not the worker (workers/rag_ingest)

# What `ringside worker` may host, by the names RINGSIDE_WORKER_FAMILIES takes.
WORKER_FAMILIES = {
    "webhooks": WEBHOOKS,
    "billing": BILLING,
    "maintenance": MAINTENANCE,
    "batches": BATCHES,
    "runs": RUNS,
}


def worker_families(setting: str) -> list[str]:
    """The families a RINGSIDE_WORKER_FAMILIES value names, checked (a typo stops the start)."""
    names = [name.strip() for name in setting.split(",") if name.strip()]
    unknown = sorted(set(names) - set(WORKER_FAMILIES))
    if unknown or not names:
        raise ValueError(
            f"RINGSIDE_WORKER_FAMILIES: {', '.join(unknown) or 'nothing'} is not one of {', '.join(WORKER_FAMILIES)}"
        )
    return list(dict.fromkeys(names))
