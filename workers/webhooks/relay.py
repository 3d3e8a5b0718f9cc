"""The outbox relay: starts one delivery workflow per (event, endpoint), then marks the entry relayed.

Workflow ids are deterministic and duplicates are rejected, so an entry relayed twice (the worker or
the core died between the start and the mark) still yields one delivery. The core answers a claim as
soon as an outbox entry commits (long poll), so an event reaches Temporal within milliseconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from ringside.core.v1 import webhooks_pb2
from ringside_server.core_client import CoreClient
from ringside_server.errors import RingsideError
from workers.webhooks.search import customer_attributes
from workers.webhooks.shared import DeliveryInput, workflow_id
from workers.webhooks.workflows import WebhookDeliveryWorkflow

log = logging.getLogger("ringside.webhooks.relay")
CLAIM_LIMIT = 100
RETRY_AFTER_ERROR_S = 1.0


class Relay:
    def __init__(
        self, core: CoreClient, client: Client, task_queue: str, wait_ms: int, search_attributes: bool = False
    ) -> None:
        self._core = core
        self._client = client
        self._task_queue = task_queue
        self._wait_ms = wait_ms
        self._search_attributes = search_attributes  # RingsideCustomerId is registered (search.py)

    async def _start(self, item: webhooks_pb2.OutboxItem, endpoint_id: str) -> None:
        redelivery_of = item.outbox_id if item.redelivery else ""
        # Relayed before (the mark did not land): the first start stands, exactly one delivery.
        with contextlib.suppress(WorkflowAlreadyStartedError):
            await self._client.start_workflow(
                WebhookDeliveryWorkflow.run,
                DeliveryInput(item.event_id, endpoint_id, item.customer_id, item.event_type),
                id=workflow_id(item.customer_id, item.event_id, endpoint_id, redelivery_of),
                task_queue=self._task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                memo={"customer_id": item.customer_id, "event_type": item.event_type, "endpoint_id": endpoint_id},
                search_attributes=customer_attributes(item.customer_id) if self._search_attributes else None,
            )

    async def relay_once(self) -> int:
        """Claim what is pending (waiting a while for it), start its workflows, mark it. → entries."""
        claimed = await self._core.internal(
            self._core.webhooks.ClaimOutbox,
            webhooks_pb2.ClaimOutboxRequest(limit=CLAIM_LIMIT, wait_ms=self._wait_ms),
            timeout_s=self._wait_ms / 1000 + 10,
        )
        if not claimed.items:
            return 0
        await asyncio.gather(*(self._start(i, we) for i in claimed.items for we in i.endpoint_ids))
        await self._core.internal(
            self._core.webhooks.MarkOutboxRelayed,
            webhooks_pb2.MarkOutboxRelayedRequest(outbox_ids=[i.outbox_id for i in claimed.items]),
        )
        return len(claimed.items)

    async def run(self) -> None:
        while True:
            try:
                relayed = await self.relay_once()
                if relayed:
                    log.debug("relayed %d outbox entries", relayed)
            except (RingsideError, RPCError) as error:
                log.warning("outbox relay: %s; retrying", error)
                await asyncio.sleep(RETRY_AFTER_ERROR_S)
            except Exception:
                log.exception("outbox relay failed; retrying")
                await asyncio.sleep(RETRY_AFTER_ERROR_S)
