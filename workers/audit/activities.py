"""The audit's one activity: ask the core to verify its ledger."""

from __future__ import annotations

from temporalio import activity
from temporalio.exceptions import ApplicationError

from ringside.core.v1 import system_pb2
from ringside_server.core_client import CoreClient
from ringside_server.errors import RingsideError
from workers.audit.shared import AuditInput, AuditResult

AUDIT_TIMEOUT_S = 300.0


class AuditActivities:
    def __init__(self, core: CoreClient) -> None:
        self._core = core

    @activity.defn(name="verify_ledger")
    async def verify_ledger(self, request: AuditInput) -> AuditResult:
        try:
            audit = await self._core.internal(
                self._core.system.VerifyLedger, system_pb2.VerifyLedgerRequest(), timeout_s=AUDIT_TIMEOUT_S
            )
        except RingsideError as error:
            # An unreachable core may come back (retry); anything else (a wrong internal token) will not.
            raise ApplicationError(
                str(error), type=error.code, non_retryable=error.code != "service_unavailable"
            ) from None
        return AuditResult(
            transfer_count=audit.transfer_count,
            imbalance_nano_usd=audit.imbalance_nano_usd,
            overposted_holds=audit.overposted_holds,
            multiply_resolved_holds=audit.multiply_resolved_holds,
            usage_ledger_mismatches=audit.usage_ledger_mismatches,
            invalid_transfers=audit.invalid_transfers,
            memory_mismatches=audit.memory_mismatches,
            ledger_totals_mismatches=audit.ledger_totals_mismatches,
            open_holds=audit.open_holds,
            ok=audit.ok,
        )
