"""IdempotencyService (internal: the edge)."""

from __future__ import annotations

from core.rpc.base import Base, Context, rpc
from core.services import idempotency
from ringside.core.v1 import idempotency_pb2, idempotency_pb2_grpc

PROCEED = idempotency_pb2.IDEMPOTENCY_DECISION_PROCEED
REPLAY = idempotency_pb2.IDEMPOTENCY_DECISION_REPLAY


class IdempotencyServicer(Base, idempotency_pb2_grpc.IdempotencyServiceServicer):
    @rpc
    async def BeginIdempotent(
        self, request: idempotency_pb2.BeginIdempotentRequest, context: Context
    ) -> idempotency_pb2.BeginIdempotentResponse:
        self.auth.internal(context)
        stored = await idempotency.begin(self.core, request.api_key, request.route, request.key, request.request_hash)
        if stored is None:
            return idempotency_pb2.BeginIdempotentResponse(decision=PROCEED)
        return idempotency_pb2.BeginIdempotentResponse(decision=REPLAY, status=stored[0], body=stored[1])

    @rpc
    async def FinishIdempotent(
        self, request: idempotency_pb2.FinishIdempotentRequest, context: Context
    ) -> idempotency_pb2.FinishIdempotentResponse:
        self.auth.internal(context)
        await idempotency.finish(
            self.core,
            request.api_key,
            request.route,
            request.key,
            request.request_hash[:64],
            request.status,
            request.body,
        )
        return idempotency_pb2.FinishIdempotentResponse()

    @rpc
    async def AbortIdempotent(
        self, request: idempotency_pb2.AbortIdempotentRequest, context: Context
    ) -> idempotency_pb2.AbortIdempotentResponse:
        self.auth.internal(context)
        idempotency.abort(self.core, request.api_key, request.route, request.key)
        return idempotency_pb2.AbortIdempotentResponse()
