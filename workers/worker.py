"""The worker process: connects to Temporal, hosts the workflow families it is given (each on its
task queue, workers/task_queues.py), keeps the schedules in place."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import signal
import socket
from datetime import timedelta
from typing import Any

import aiohttp
from temporalio.client import (
    Client,
    Interceptor,
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

from ringside_server.core_client import CoreClient
from ringside_server.errors import RingsideError
from ringside_server.file_store import open_file_store
from ringside_server.metering.breaker import Breakers
from ringside_server.metering.gateway import Gateway
from ringside_server.netpolicy import AddressPolicy
from ringside_server.observability import tracing
from ringside_server.observability.metrics import WorkerMetrics, serve_metrics
from ringside_server.providers.configured import models_and_providers
from ringside_server.providers.local import LocalProvider
from ringside_server.providers.session import providers_session
from ringside_server.rag_client import RagClient
from ringside_server.request_log import RequestRecorder
from ringside_server.settings import Settings
from ringside_server.temporal_connection import TemporalConnection
from workers.audit.activities import AuditActivities
from workers.audit.shared import SCHEDULE_ID, AuditInput
from workers.audit.workflows import LedgerAuditWorkflow
from workers.batch.activities import BatchActivities
from workers.batch.starter import BatchStarter
from workers.batch.workflows import BatchWorkflow
from workers.billing.activities import BillingActivities, billing_activities
from workers.billing.shared import (
    ROLLOVER_SCHEDULE_ID,
    ROLLOVER_WORKFLOW_ID,
    SYNC_SCHEDULE_ID,
    SYNC_WORKFLOW_ID,
    RolloverInput,
    SyncInput,
)
from workers.billing.workflows import BillingPeriodRolloverWorkflow, StripeUsageSyncWorkflow
from workers.observability import ActivityMetrics
from workers.retention.activities import RetentionActivities
from workers.retention.shared import SCHEDULE_ID as RETENTION_SCHEDULE_ID
from workers.retention.shared import WORKFLOW_ID as RETENTION_WORKFLOW_ID
from workers.retention.shared import PurgeInput
from workers.retention.workflows import RetentionPurgeWorkflow
from workers.runs.activities import RunActivities
from workers.runs.starter import RunStarter
from workers.runs.workflows import AssistantRunWorkflow
from workers.task_queues import BATCHES, BILLING, MAINTENANCE, WEBHOOKS, WORKER_FAMILIES, worker_families
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
    temporal = TemporalConnection.from_settings(settings)
    for attempt in range(CONNECT_ATTEMPTS):
        try:
            return await temporal.connect(_interceptors(settings))
        except RuntimeError as error:
            if attempt == CONNECT_ATTEMPTS - 1:
                raise
            log.info("waiting for Temporal at %s (%s)", temporal.address, error)
            await asyncio.sleep(0.5)
    raise AssertionError("unreachable")


def _interceptors(settings: Settings) -> list[Interceptor]:
    """temporalio's tracing interceptor when this worker traces (workflow and activity spans)."""
    if not tracing.enabled(settings.environment):
        return []
    from temporalio.contrib.opentelemetry import TracingInterceptor

    return [TracingInterceptor()]


def schedules(settings: Settings) -> dict[str, Schedule]:
    """Every schedule the worker keeps, by id (operators see, pause and trigger them in the UI)."""

    def every(workflow: Any, argument: object, workflow_id: str, interval_s: int, queue: str = MAINTENANCE) -> Schedule:
        return Schedule(
            action=ScheduleActionStartWorkflow(workflow, argument, id=workflow_id, task_queue=queue),
            spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(seconds=interval_s))]),
        )

    return {
        SCHEDULE_ID: every(LedgerAuditWorkflow.run, AuditInput(), "ledger-audit", 3600),
        ROLLOVER_SCHEDULE_ID: every(
            BillingPeriodRolloverWorkflow.run,
            RolloverInput(),
            ROLLOVER_WORKFLOW_ID,
            settings.rollover_interval_s,
            BILLING,
        ),
        SYNC_SCHEDULE_ID: every(
            StripeUsageSyncWorkflow.run, SyncInput(), SYNC_WORKFLOW_ID, settings.stripe_sync_interval_s, BILLING
        ),
        RETENTION_SCHEDULE_ID: every(
            RetentionPurgeWorkflow.run, PurgeInput(), RETENTION_WORKFLOW_ID, settings.retention_interval_s
        ),
    }


async def ensure_schedules(client: Client, settings: Settings) -> None:
    """Create the schedules, or bring existing ones to this release's definition (keeping a pause)."""
    for schedule_id, schedule in schedules(settings).items():
        try:
            await client.create_schedule(schedule_id, schedule)
        except ScheduleAlreadyRunningError:

            def updated(current: ScheduleUpdateInput, schedule: Schedule = schedule) -> ScheduleUpdate:
                return ScheduleUpdate(schedule=dataclasses.replace(schedule, state=current.description.schedule.state))

            await client.get_schedule_handle(schedule_id).update(updated)


async def _heartbeat(core: CoreClient, client: Client, instance: str) -> None:
    """Report ready to the core only while Temporal answers too: /healthz means the worker can work."""
    while True:
        with contextlib.suppress(RingsideError, RPCError):
            if await client.service_client.check_health():
                await core.heartbeat("worker", instance)
        await asyncio.sleep(HEARTBEAT_EVERY_S)


def metered_gateway(settings: Settings, core: CoreClient, session: aiohttp.ClientSession, rag: RagClient) -> Gateway:
    """What the worker's model calls (a batch's lines, an Assistants run's steps) are metered
    through, as the edge has it: the catalog, the providers and their rules, the rag role; per-call
    holds (no leases: a worker admits a few calls at a time), no call metrics of its own."""
    refs, providers = models_and_providers(settings, session, LocalProvider(rag))
    breakers = Breakers(settings.breaker_failures, settings.breaker_cooldown_s)
    return Gateway(settings=settings, core=core, refs=refs, providers=providers, breakers=breakers, rag=rag)


async def drain_query_log(gateway: Gateway, timeout_s: float) -> None:
    """The query-log entries of the file_search calls the activities made are written before the
    worker exits (as the edge drains its own at shutdown); past `timeout_s` the rest are lost."""
    try:
        await asyncio.wait_for(gateway.query_log.drain(), timeout_s)
    except TimeoutError:
        log.warning("worker stopped with %d query log entries unwritten", len(gateway.query_log))


def family_workers(
    client: Client,
    families: list[str],
    core: CoreClient,
    settings: Settings,
    session: Any,
    metrics: WorkerMetrics,
    batches: BatchActivities | None = None,
    runs: RunActivities | None = None,
) -> list[Worker]:
    """One temporalio Worker per family this process hosts, each polling that family's task queue
    (`batches` and `runs`, the families that make metered calls, need their activities given)."""
    interceptors = [ActivityMetrics(metrics)]
    if ("batches" in families and batches is None) or ("runs" in families and runs is None):
        raise ValueError("the batches and runs families need their activities")
    hosted: dict[str, tuple[list[type], list[Any]]] = {
        "webhooks": ([WebhookDeliveryWorkflow], [DeliveryActivities(core, session, metrics).attempt]),
        "billing": (
            [BillingPeriodRolloverWorkflow, StripeUsageSyncWorkflow],
            billing_activities(BillingActivities(core, settings.stripe_api_base)),
        ),
        "maintenance": (
            [LedgerAuditWorkflow, RetentionPurgeWorkflow],
            [AuditActivities(core).verify_ledger, RetentionActivities(core).purge_expired],
        ),
    }
    if batches is not None:
        hosted["batches"] = (
            [BatchWorkflow],
            [batches.run, batches.finish, batches.polled.poll, batches.polled.collect],
        )
    if runs is not None:
        hosted["runs"] = ([AssistantRunWorkflow], [runs.step, runs.wait, runs.fail])
    return [
        Worker(
            client,
            task_queue=WORKER_FAMILIES[family],
            workflows=hosted[family][0],
            activities=hosted[family][1],
            interceptors=interceptors,
        )
        for family in families
    ]


async def serve(settings: Settings) -> None:
    families = worker_families(settings.worker_families)
    core = CoreClient(settings.resolved_core_address, settings.resolve_internal_token(), settings.core_partitions)
    session = delivery_session(AddressPolicy.parse(settings.webhook_allowed_networks))
    session_for_providers = providers_session()
    rag = RagClient(settings.resolved_rag_address, settings.resolve_internal_token())
    gateway = metered_gateway(settings, core, session_for_providers, rag)
    try:
        client = await connect(settings)
        await ensure_schedules(client, settings)
        metrics = WorkerMetrics.create()
        request_log = RequestRecorder(core)
        request_log.start()
        batches = BatchActivities(
            core,
            gateway,
            request_log,
            settings.data_dir.resolve(),
            settings.batch_concurrency,
            open_file_store(settings),
            settings.batch_poll_s,
        )
        if settings.worker_metrics_port:
            serve_metrics(metrics.registry, settings.bind_host, settings.worker_metrics_port)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        async with contextlib.AsyncExitStack() as running:
            hosted = family_workers(client, families, core, settings, session, metrics, batches, RunActivities(gateway))
            for worker in hosted:
                await running.enter_async_context(worker)
            tasks = [asyncio.create_task(_heartbeat(core, client, f"{socket.gethostname()}:{os.getpid()}"))]
            searchable = await ensure_customer_attribute(client, settings.temporal_namespace)
            if "webhooks" in families:  # the relay starts deliveries: where their workflow runs
                relay = Relay(core, client, WEBHOOKS, settings.webhook_relay_wait_ms, searchable)
                tasks.append(asyncio.create_task(relay.run()))
            if "batches" in families:
                tasks.append(asyncio.create_task(BatchStarter(core, client, BATCHES, searchable).run()))
            if "runs" in families:
                tasks.append(asyncio.create_task(RunStarter(core, client).run()))
            log.info(
                "worker polling %s on %s",
                ", ".join(WORKER_FAMILIES[f] for f in families),
                client.service_client.config.target_host,
            )
            await stop.wait()
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            log.info("worker stopping: finishing running activities")
        await drain_query_log(gateway, settings.drain_timeout_s)
        await request_log.close()
    finally:
        await session.close()
        await session_for_providers.close()
        await rag.close()
        await core.close()
    log.info("worker stopped")
