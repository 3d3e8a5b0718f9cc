"""Starts one workflow per piece of work the core says is pending (a file's ingest, a batch): the
edge has no Temporal client, so — like the webhook outbox's relay — a role that has one asks the core
what is pending and starts a workflow each. Ids are deterministic and a running or completed one is
never started again, so a restart of that role (or two of them) starts each once; a failed run may be
started anew."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from ringside_server.errors import RingsideError
from workers.webhooks.search import customer_attributes

CLAIM_LIMIT = 200
POLL_EVERY_S = 0.5
Pending = TypeVar("Pending")


@dataclass(frozen=True, slots=True)
class Start:
    """One workflow to start: its run method, its one (ids-only) input, its deterministic id."""

    run: Any
    argument: object
    workflow_id: str
    task_queue: str
    customer_id: str
    memo: dict[str, str]


class PendingStarter(ABC, Generic[Pending]):
    def __init__(self, client: Client, search_attributes: bool, log: logging.Logger) -> None:
        self._client = client
        self._search_attributes = search_attributes
        self._log = log
        self._started: set[str] = set()  # ids started by this process and still pending

    @abstractmethod
    async def pending(self) -> Sequence[Pending]:
        """What the core says is pending now (at most CLAIM_LIMIT)."""

    @abstractmethod
    def start_of(self, pending: Pending) -> Start: ...

    async def _start(self, pending: Pending) -> str:
        start = self.start_of(pending)
        if start.workflow_id in self._started:
            return start.workflow_id
        with contextlib.suppress(WorkflowAlreadyStartedError):
            await self._client.start_workflow(
                start.run,
                start.argument,
                id=start.workflow_id,
                task_queue=start.task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
                memo=start.memo,
                search_attributes=customer_attributes(start.customer_id) if self._search_attributes else None,
            )
        return start.workflow_id

    async def start_pending(self) -> int:
        """Starts the workflows of what is pending now. → how many were pending."""
        ids = await asyncio.gather(*(self._start(pending) for pending in await self.pending()))
        self._started = set(ids)  # what is no longer pending is forgotten: the set stays bounded
        return len(ids)

    async def run(self) -> None:
        while True:
            try:
                await self.start_pending()
            except (RingsideError, RPCError) as error:
                self._log.warning("%s: %s; retrying", type(self).__name__, error)
            await asyncio.sleep(POLL_EVERY_S)
