"""Inputs and outputs of the ingest workflow (ids only: the activities read the rest from the core),
and the hold an attempt leaves unsettled, which the migration workflow settles (`LeftHold`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from workers import task_queues

TASK_QUEUE = task_queues.RAG_INGEST

WORKFLOW_NAME = "RagIngestFile"


@dataclass
class IngestInput:
    """One attachment: a re-attach after a detach has another `attach_id`, so another workflow."""

    store_id: str
    file_id: str
    attach_id: str


@dataclass
class IngestOutcome:
    """`completed` with its chunks, `failed` with OpenAI's last_error, `gone` (detached meanwhile) or
    `superseded` (finished already, or re-attached since: another run's)."""

    status: str
    chunk_count: int = 0
    error_code: str = ""
    error_message: str = ""
    generation: int = 0  # the index its points went to (removed again when the file was detached)
    chunking_json: str = ""  # the strategy used, as OpenAI shows it
    embedding_tokens: int = 0  # what this attempt's embedding cost


@dataclass
class FinishInput:
    request: IngestInput
    outcome: IngestOutcome


def workflow_id(owner: str, request: IngestInput) -> str:
    """Deterministic: the owner (`cus_…`, or the account's `acct_…`) and the store lead, so the
    Temporal UI finds a customer's or a store's ingests by prefix."""
    return f"rag-ingest-{owner}-{request.store_id}-{request.file_id}-{request.attach_id}"


@dataclass
class LeftHold:
    """A metered call's hold an attempt could not settle (its core away through every retry): ids
    and counts only, what the call used under it (workers/rag_ingest/holds.py)."""

    hold_id: str
    input_tokens: int = 0
    upstream_model: str = ""
    output_tokens: int = 0
    audio_input_tokens: int = 0


def left_hold(details: Sequence[Any]) -> LeftHold | None:
    """The open hold an attempt's heartbeat carries — `(resume, hold id, input tokens, upstream
    model, output tokens, audio input tokens)`, the last two optional — or None (no hold open)."""
    if len(details) < 4 or not details[1]:
        return None
    return LeftHold(
        str(details[1]),
        int(details[2]),
        str(details[3]),
        int(details[4]) if len(details) > 4 else 0,
        int(details[5]) if len(details) > 5 else 0,
    )
