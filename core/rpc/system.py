"""SystemService: heartbeats, status, the ledger audit, the retention purge."""

from __future__ import annotations

from core.rpc.base import Base, Context, rpc
from core.services import retention, system
from ringside.core.v1 import system_pb2, system_pb2_grpc


class SystemServicer(Base, system_pb2_grpc.SystemServiceServicer):
    @rpc
    async def Heartbeat(self, request: system_pb2.HeartbeatRequest, context: Context) -> system_pb2.HeartbeatResponse:
        self.auth.internal(context)
        system.heartbeat(self.core, request.role, request.instance)
        return system_pb2.HeartbeatResponse()

    @rpc
    async def GetStatus(self, request: system_pb2.GetStatusRequest, context: Context) -> system_pb2.GetStatusResponse:
        self.auth.internal(context)
        return system_pb2.GetStatusResponse(
            roles=[
                system_pb2.RoleStatus(role=role, instance=instance, age_seconds=age)
                for role, instance, age in system.status(self.core)
            ]
        )

    @rpc
    async def VerifyLedger(
        self, request: system_pb2.VerifyLedgerRequest, context: Context
    ) -> system_pb2.VerifyLedgerResponse:
        self.auth.internal(context)
        audit = await system.verify_ledger(self.core)
        return system_pb2.VerifyLedgerResponse(
            transfer_count=audit.transfer_count,
            imbalance_nano_usd=audit.imbalance_nano,
            overposted_holds=audit.overposted_holds,
            multiply_resolved_holds=audit.multiply_resolved_holds,
            usage_ledger_mismatches=audit.usage_ledger_mismatches,
            open_holds=audit.open_holds,
            invalid_transfers=audit.invalid_transfers,
            memory_mismatches=audit.memory_mismatches,
            ledger_totals_mismatches=audit.totals_mismatches,
            ok=audit.ok,
        )

    @rpc
    async def PurgeExpired(
        self, request: system_pb2.PurgeExpiredRequest, context: Context
    ) -> system_pb2.PurgeExpiredResponse:
        self.auth.internal(context)
        before = await retention.purge(self.core)
        return system_pb2.PurgeExpiredResponse(
            events_before=before.events,
            delivery_attempts_before=before.delivery_attempts,
            outbox_before=before.outbox,
            idempotency_keys_before=before.idempotency_keys,
            responses_before=before.responses,
            requests_before=before.requests,
        )
