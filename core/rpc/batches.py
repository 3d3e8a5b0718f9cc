"""BatchesService: proto → core/services/batches.py → proto."""

from __future__ import annotations

from core.domain.batches import Batch
from core.rpc.base import MAX_PROTO_STRING, Base, Context, rpc
from core.rpc.fanout import ask_peers, interleave, local_only
from core.services import batches
from ringside.core.v1 import batches_pb2 as pb
from ringside.core.v1 import batches_pb2_grpc

MAX_ID = 100


def batch_to(batch: Batch) -> pb.Batch:
    return pb.Batch(
        id=batch.id,
        livemode=batch.livemode,
        customer_id=batch.customer_id or "",
        endpoint=batch.endpoint,
        input_file_id=batch.input_file_id,
        completion_window=batch.completion_window,
        status=batch.status,
        output_file_id=batch.output_file_id,
        error_file_id=batch.error_file_id,
        created=batch.created,
        in_progress_at=batch.in_progress_at,
        expires_at=batch.expires_at,
        finalizing_at=batch.finalizing_at,
        completed_at=batch.completed_at,
        failed_at=batch.failed_at,
        expired_at=batch.expired_at,
        cancelling_at=batch.cancelling_at,
        cancelled_at=batch.cancelled_at,
        request_counts=pb.BatchRequestCounts(total=batch.total, completed=batch.completed, failed=batch.failed),
        metadata_json=batch.metadata_json,
        errors_json=batch.errors_json,
    )


def _file(result: pb.BatchResultFile, present: bool) -> batches.ResultFile | None:
    return batches.ResultFile(result.id[:MAX_ID], result.bytes, result.sha256[:MAX_ID]) if present else None


PENDING_BATCHES = "/ringside.core.v1.BatchesService/PendingBatches"


class BatchesServicer(Base, batches_pb2_grpc.BatchesServiceServicer):
    @rpc
    async def CreateBatch(self, request: pb.CreateBatchRequest, context: Context) -> pb.BatchResponse:
        batch = await batches.create(
            self.core,
            self.auth.principal(context),
            request.input_file_id[:MAX_ID],
            request.endpoint[:MAX_ID],
            request.completion_window[:MAX_ID],
            request.metadata_json[:MAX_PROTO_STRING],
            request.customer_ref[:MAX_PROTO_STRING],
            request.total_lines,
        )
        return pb.BatchResponse(batch=batch_to(batch))

    @rpc
    async def GetBatch(self, request: pb.GetBatchRequest, context: Context) -> pb.BatchResponse:
        principal = self.auth.principal(context)
        batch = batches.get(self.core, principal, request.id[:MAX_ID], request.customer_ref[:MAX_PROTO_STRING])
        return pb.BatchResponse(batch=batch_to(batch))

    @rpc
    async def ListBatches(self, request: pb.ListBatchesRequest, context: Context) -> pb.ListBatchesResponse:
        items, has_more = batches.list_batches(
            self.core,
            self.auth.principal(context),
            request.customer_ref[:MAX_PROTO_STRING],
            request.limit,
            request.after[:MAX_ID],
        )
        return pb.ListBatchesResponse(batches=[batch_to(b) for b in items], has_more=has_more)

    @rpc
    async def CancelBatch(self, request: pb.GetBatchRequest, context: Context) -> pb.BatchResponse:
        principal = self.auth.principal(context)
        batch = await batches.cancel(self.core, principal, request.id[:MAX_ID], request.customer_ref[:MAX_PROTO_STRING])
        return pb.BatchResponse(batch=batch_to(batch))

    @rpc
    async def PendingBatches(self, request: pb.PendingBatchesRequest, context: Context) -> pb.PendingBatchesResponse:
        self.auth.internal(context)
        limit = request.limit or 100
        found = [
            pb.PendingBatch(batch_id=b.id, customer_id=b.customer_id or "", account_id=b.account_id)
            for b in batches.pending(self.core, limit)
        ]
        if not local_only(self.core, context):  # several active cores: each lists its own accounts'
            others = await ask_peers(
                self.core, context, PENDING_BATCHES, request, pb.PendingBatchesResponse.FromString, partial_ok=True
            )
            found = interleave([found, *(o.batches for o in others)], lambda b: b.batch_id, limit)
        return pb.PendingBatchesResponse(batches=found)

    @rpc
    async def GetBatchJob(self, request: pb.BatchJobRequest, context: Context) -> pb.BatchJobResponse:
        self.auth.internal(context)
        batch = batches.job(self.core, request.batch_id[:MAX_ID])
        return pb.BatchJobResponse(batch=batch_to(batch), key_id=batch.key_id, account_id=batch.account_id)

    @rpc
    async def StartBatch(self, request: pb.BatchJobRequest, context: Context) -> pb.BatchResponse:
        self.auth.internal(context)
        return pb.BatchResponse(batch=batch_to(await batches.start(self.core, request.batch_id[:MAX_ID])))

    @rpc
    async def ReportBatchProgress(self, request: pb.ReportBatchProgressRequest, context: Context) -> pb.BatchResponse:
        self.auth.internal(context)
        batch = await batches.progress(self.core, request.batch_id[:MAX_ID], request.completed, request.failed)
        return pb.BatchResponse(batch=batch_to(batch))

    @rpc
    async def FinishBatch(self, request: pb.FinishBatchRequest, context: Context) -> pb.BatchResponse:
        self.auth.internal(context)
        batch = await batches.finish(
            self.core,
            request.batch_id[:MAX_ID],
            request.status[:20],
            (request.completed, request.failed),
            (
                _file(request.output_file, request.HasField("output_file")),
                _file(request.error_file, request.HasField("error_file")),
            ),
            request.errors_json[:MAX_PROTO_STRING],
        )
        return pb.BatchResponse(batch=batch_to(batch))
