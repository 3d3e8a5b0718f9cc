"""The purge's one activity: ask the core to purge what outlived its retention setting."""

from __future__ import annotations

from temporalio import activity
from temporalio.exceptions import ApplicationError

from ringside.core.v1 import system_pb2
from ringside_server.core_client import CoreClient
from ringside_server.errors import RingsideError
from workers.retention.shared import PurgeInput, PurgeResult

PURGE_TIMEOUT_S = 600.0


class RetentionActivities:
    def __init__(self, core: CoreClient) -> None:
        self._core = core

    @activity.defn(name="purge_expired")
    async def purge_expired(self, request: PurgeInput) -> PurgeResult:
        try:
            purged = await self._core.internal(
                self._core.system.PurgeExpired, system_pb2.PurgeExpiredRequest(), timeout_s=PURGE_TIMEOUT_S
            )
        except RingsideError as error:
            # An unreachable core may come back (retry); anything else (a wrong internal token) will not.
            raise ApplicationError(
                str(error), type=error.code, non_retryable=error.code != "service_unavailable"
            ) from None
        return PurgeResult(
            purged.events_before,
            purged.delivery_attempts_before,
            purged.outbox_before,
            purged.idempotency_keys_before,
            purged.requests_before,
        )
