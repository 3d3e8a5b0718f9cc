"""The worker's figures: every Temporal activity's outcome and duration (an interceptor), served on
RINGSIDE_WORKER_METRICS_PORT."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from temporalio import activity
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

from ringside_server.observability.metrics import WorkerMetrics


class ActivityMetrics(Interceptor):
    def __init__(self, metrics: WorkerMetrics) -> None:
        self._metrics = metrics

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _Counted(next, self._metrics)


class _Counted(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, metrics: WorkerMetrics) -> None:
        super().__init__(next)
        self._metrics = metrics

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        name = activity.info().activity_type
        started = time.perf_counter()
        outcome = "failed"
        try:
            result = await super().execute_activity(input)
            outcome = "completed"
            return result
        except asyncio.CancelledError:
            outcome = "cancelled"
            raise
        finally:
            self._metrics.activities.labels(name, outcome).inc()
            self._metrics.activity_duration.labels(name).observe(time.perf_counter() - started)
