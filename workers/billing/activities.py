"""The billing activities: ask the core to close periods; plan, push and commit a batch of Stripe
meter events. Batched: one activity covers many customers (never a workflow per record)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from ringside.core.v1 import billing_pb2
from ringside_server.core_client import CoreClient
from ringside_server.errors import RingsideError
from workers.billing import stripe_push
from workers.billing.shared import (
    CloseInput,
    CloseResult,
    FinishSyncInput,
    SyncBatchInput,
    SyncBatchResult,
)

CORE_TIMEOUT_S = 60.0
PUSH_CONCURRENCY = 8
HEARTBEAT_EVERY_S = 5.0  # a dead worker's batch is retried elsewhere once heartbeats stop (see workflows.py)
TRANSIENT = "StripeTransient"


def _core_error(error: RingsideError) -> ApplicationError:
    """An unreachable core may come back (retry); anything else (a wrong internal token) will not."""
    return ApplicationError(str(error), type=error.code, non_retryable=error.code != "service_unavailable")


class BillingActivities:
    def __init__(self, core: CoreClient, stripe_api_base: str) -> None:
        self._core = core
        self._api_base = stripe_api_base
        self._pushing = asyncio.Semaphore(PUSH_CONCURRENCY)

    @activity.defn(name="close_periods")
    async def close_periods(self, request: CloseInput) -> CloseResult:
        try:
            result = await self._core.internal(
                self._core.billing.ClosePeriods,
                billing_pb2.ClosePeriodsRequest(limit=request.limit),
                timeout_s=CORE_TIMEOUT_S,
            )
        except RingsideError as error:
            raise _core_error(error) from None
        return CloseResult(result.closed, result.waiting, result.has_more)

    async def _send(self, push: billing_pb2.StripePush) -> stripe_push.Answer:
        async with self._pushing:
            return await asyncio.to_thread(stripe_push.send, push, self._api_base)

    @activity.defn(name="sync_stripe_batch")
    async def sync_batch(self, request: SyncBatchInput) -> SyncBatchResult:
        """Plan (durably, in the core), push, then commit what Stripe has. Pushes that met a
        transient error stay planned: the activity fails after committing the rest, and its retry
        resends exactly those (same identifiers)."""
        beating = asyncio.create_task(_heartbeats())
        try:
            return await self._sync_batch(request)
        finally:
            beating.cancel()

    async def _sync_batch(self, request: SyncBatchInput) -> SyncBatchResult:
        try:
            plan = await self._core.internal(
                self._core.billing.PlanStripeSync,
                billing_pb2.PlanStripeSyncRequest(
                    run_id=request.run_id, after_customer_id=request.after_customer_id, limit=request.limit
                ),
                timeout_s=CORE_TIMEOUT_S,
            )
            answers = await asyncio.gather(*(self._send(push) for push in plan.pushes))
            outcomes = [
                billing_pb2.StripeOutcome(
                    customer_id=push.customer_id,
                    identifier=push.identifier,
                    outcome=answer.outcome,
                    code=answer.code,
                    message=answer.message,
                )
                for push, answer in zip(plan.pushes, answers, strict=True)
                if answer.outcome != "transient"
            ]
            if outcomes:
                await self._core.internal(
                    self._core.billing.CommitStripeSync,
                    billing_pb2.CommitStripeSyncRequest(run_id=request.run_id, outcomes=outcomes),
                    timeout_s=CORE_TIMEOUT_S,
                )
        except RingsideError as error:
            raise _core_error(error) from None
        result = SyncBatchResult(
            pushed=sum(a.outcome == "pushed" for a in answers),
            duplicates=sum(a.outcome == "duplicate" for a in answers),
            failed=sum(a.outcome == "failed" for a in answers),
            transient=sum(a.outcome == "transient" for a in answers),
            last_customer_id=plan.last_customer_id,
            has_more=plan.has_more,
        )
        if result.transient:
            first = next(a for a in answers if a.outcome == "transient")
            raise ApplicationError(f"Stripe: {first.code}: {first.message}", result, type=TRANSIENT)
        return result

    @activity.defn(name="finish_stripe_sync")
    async def finish_sync(self, request: FinishSyncInput) -> None:
        try:
            await self._core.internal(
                self._core.billing.CommitStripeSync,
                billing_pb2.CommitStripeSyncRequest(run_id=request.run_id, finish=True),
                timeout_s=CORE_TIMEOUT_S,
            )
        except RingsideError as error:
            raise _core_error(error) from None


async def _heartbeats() -> None:
    while True:
        activity.heartbeat()
        await asyncio.sleep(HEARTBEAT_EVERY_S)


def billing_activities(activities: BillingActivities) -> list[Callable[..., Any]]:
    """The activities a worker registers for billing."""
    return [activities.close_periods, activities.sync_batch, activities.finish_sync]
