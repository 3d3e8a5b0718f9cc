"""The worker process: connects to Temporal, hosts every workflow, keeps its schedules in place."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import signal
import socket
from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.service import RPCError
from temporalio.worker import Worker

from ringside.core_client import CoreClient
from ringside.errors import RingsideError
from ringside.netpolicy import AddressPolicy
from ringside.settings import Settings
from workers.audit.activities import AuditActivities
from workers.audit.shared import SCHEDULE_ID, TASK_QUEUE, AuditInput
from workers.audit.workflows import LedgerAuditWorkflow
from workers.webhooks.activities import DeliveryActivities
from workers.webhooks.http import delivery_session
from workers.webhooks.relay import Relay
from workers.webhooks.search import ensure_customer_attribute
from workers.webhooks.workflows import WebhookDeliveryWorkflow

log = logging.getLogger("ringside.worker")
CONNECT_ATTEMPTS = 60
HEARTBEAT_EVERY_S = 2.0


async def connect(settings: Settings) -> Client:
    """Temporal may still be starting (ringside up starts both): retry for a bounded while."""
    for attempt in range(CONNECT_ATTEMPTS):
        try:
            return await Client.connect(settings.resolved_temporal_address, namespace=settings.temporal_namespace)
        except RuntimeError as error:
            if attempt == CONNECT_ATTEMPTS - 1:
                raise
            log.info("waiting for Temporal at %s (%s)", settings.resolved_temporal_address, error)
            await asyncio.sleep(0.5)
    raise AssertionError("unreachable")


async def ensure_schedules(client: Client) -> None:
    """Create the schedules, or bring existing ones to this release's definition (keeping a pause)."""
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(
            LedgerAuditWorkflow.run, AuditInput(), id="ledger-audit", task_queue=TASK_QUEUE
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(hours=1))]),
    )
    try:
        await client.create_schedule(SCHEDULE_ID, schedule)
    except ScheduleAlreadyRunningError:

        def updated(current: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=dataclasses.replace(schedule, state=current.description.schedule.state))

        await client.get_schedule_handle(SCHEDULE_ID).update(updated)


async def _heartbeat(core: CoreClient, client: Client, instance: str) -> None:
    """Report ready to the core only while Temporal answers too: /healthz means the worker can work."""
    while True:
        with contextlib.suppress(RingsideError, RPCError):
            if await client.service_client.check_health():
                await core.heartbeat("worker", instance)
        await asyncio.sleep(HEARTBEAT_EVERY_S)


async def serve(settings: Settings) -> None:
    core = CoreClient(settings.resolved_core_address, settings.resolve_internal_token())
    session = delivery_session(AddressPolicy.parse(settings.webhook_allowed_networks))
    try:
        client = await connect(settings)
        await ensure_schedules(client)
        worker = Worker(
            client,
            task_queue=TASK_QUEUE,
            workflows=[LedgerAuditWorkflow, WebhookDeliveryWorkflow],
            activities=[AuditActivities(core).verify_ledger, DeliveryActivities(core, session).attempt],
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        async with worker:
            heartbeat = asyncio.create_task(_heartbeat(core, client, f"{socket.gethostname()}:{os.getpid()}"))
            searchable = await ensure_customer_attribute(client, settings.temporal_namespace)
            relay = Relay(core, client, TASK_QUEUE, settings.webhook_relay_wait_ms, searchable)
            relaying = asyncio.create_task(relay.run())
            log.info("worker polling task queue %r on %s", TASK_QUEUE, settings.resolved_temporal_address)
            await stop.wait()
            for task in (heartbeat, relaying):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            log.info("worker stopping: finishing running activities")
    finally:
        await session.close()
        await core.close()
    log.info("worker stopped")
