"""Inputs and outputs of the run workflow (ids only: the activities read the rest from the core)."""

from __future__ import annotations

from dataclasses import dataclass

from workers.task_queues import RUNS

WORKFLOW_NAME = "AssistantRun"
TASK_QUEUE = RUNS  # workers/task_queues.py


@dataclass
class RunInput:
    """One run, and the key it was made with (the worker acts for it, by id)."""

    run_id: str
    thread_id: str
    key_id: str


@dataclass
class StepOutcome:
    """`done` (the run ended: its status), `next` (call the model again), `waiting` (for tool outputs)."""

    state: str
    status: str = ""


def workflow_id(run_id: str) -> str:
    return f"assistant-run-{run_id}"
