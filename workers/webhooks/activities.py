"""One delivery attempt: read the target from the core, sign (t = now), POST, record the attempt."""

from __future__ import annotations

import time

import aiohttp
from temporalio import activity
from temporalio.exceptions import ApplicationError

from ringside.core.v1 import webhooks_pb2
from ringside_server.core_client import CoreClient
from ringside_server.errors import RingsideError
from ringside_server.observability.metrics import WorkerMetrics
from workers.webhooks import signing
from workers.webhooks.shared import ACTIVITY_NAME, POST_TIMEOUT_S, AttemptInput, AttemptResult

MAX_RESPONSE_BYTES = 64 * 1024
MAX_ERROR = 500


def _activity_error(error: RingsideError) -> ApplicationError:
    # An unreachable core comes back (retry); anything else (a wrong token, a vanished event) will not.
    return ApplicationError(str(error), type=error.code, non_retryable=error.code != "service_unavailable")


class DeliveryActivities:
    def __init__(self, core: CoreClient, session: aiohttp.ClientSession, metrics: WorkerMetrics | None = None) -> None:
        self._core = core
        self._session = session
        self._metrics = metrics

    async def _post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
        """→ (HTTP status or 0, error text ("" when 2xx))."""
        try:
            async with self._session.post(
                url,
                data=body,
                headers=headers,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=POST_TIMEOUT_S),
            ) as response:
                await response.content.read(MAX_RESPONSE_BYTES)  # drain a little; the status is the answer
                if 200 <= response.status < 300:
                    return response.status, ""
                return response.status, f"HTTP {response.status} (only 2xx counts; redirects are not followed)"
        except TimeoutError:
            return 0, f"no answer within {POST_TIMEOUT_S:.0f} s"
        except (aiohttp.ClientError, OSError) as error:
            return 0, f"{type(error).__name__}: {error}"[:MAX_ERROR]

    @activity.defn(name=ACTIVITY_NAME)
    async def attempt(self, request: AttemptInput) -> AttemptResult:
        try:
            target = await self._core.internal(
                self._core.webhooks.GetDeliveryTarget,
                webhooks_pb2.GetDeliveryTargetRequest(event_id=request.event_id, endpoint_id=request.endpoint_id),
            )
        except RingsideError as error:
            raise _activity_error(error) from None
        if not target.active or not target.secrets:
            if self._metrics is not None:
                self._metrics.webhook_deliveries.labels("stopped").inc()
            return AttemptResult(delivered=False, stop=True, error="the endpoint is deleted or disabled")
        body = target.body.encode()
        headers = signing.headers(list(target.secrets), request.event_id, int(time.time()), body)
        started = time.monotonic()
        status, error_text = await self._post(target.url, body, headers)
        delivered = not error_text
        latency_ms = int((time.monotonic() - started) * 1000)
        attempt = webhooks_pb2.DeliveryAttempt(
            endpoint_id=request.endpoint_id,
            event_id=request.event_id,
            event_type=target.event_type,
            attempt=request.attempt,
            created=request.attempted_at,
            succeeded=delivered,
            http_status=status,
            latency_ms=latency_ms,
            error=error_text,
            next_retry_at=0 if delivered else request.next_retry_at,
        )
        try:
            recorded = await self._core.internal(
                self._core.webhooks.RecordDeliveryAttempt, webhooks_pb2.RecordDeliveryAttemptRequest(attempt=attempt)
            )
        except RingsideError as error:
            raise _activity_error(error) from None
        disabled = recorded.endpoint_disabled
        if self._metrics is not None:
            self._metrics.webhook_deliveries.labels("delivered" if delivered else "failed").inc()
        return AttemptResult(delivered, disabled, status, error_text, disabled)
