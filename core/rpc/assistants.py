"""AssistantsService."""

from __future__ import annotations

from core.domain.assistants import AssistantObject
from core.rpc.base import MAX_PROTO_STRING, Base, Context, rpc
from core.services import assistants
from ringside.core.v1 import assistants_pb2, assistants_pb2_grpc

MAX_STATUSES = 8


def object_to(found: AssistantObject) -> assistants_pb2.AssistantObject:
    return assistants_pb2.AssistantObject(
        id=found.id,
        kind=found.kind,
        customer_id=found.customer_id,
        parent_id=found.parent_id,
        status=found.status,
        body_json=found.body_json,
        private_json=found.private_json,
        created=found.created,
        account_id=found.account_id,
        livemode=found.livemode,
        key_id=found.key_id,
    )


class AssistantsServicer(Base, assistants_pb2_grpc.AssistantsServiceServicer):
    @rpc
    async def CreateObject(
        self, request: assistants_pb2.CreateObjectRequest, context: Context
    ) -> assistants_pb2.ObjectResponse:
        given = request.object
        made = AssistantObject(
            id=given.id,
            kind=given.kind[:16],
            account_id="",
            livemode=False,
            customer_id="",
            parent_id=given.parent_id[:64],
            status=given.status[:32],
            body_json=given.body_json,
            private_json=given.private_json,
            created=given.created,
            position=0,
        )
        kept = await assistants.create(
            self.core, self.auth.principal(context), made, request.customer_ref[:MAX_PROTO_STRING]
        )
        return assistants_pb2.ObjectResponse(object=object_to(kept))

    @rpc
    async def GetObject(
        self, request: assistants_pb2.GetObjectRequest, context: Context
    ) -> assistants_pb2.ObjectResponse:
        found = await assistants.get(
            self.core,
            self.auth.principal(context),
            request.id,
            request.kind,
            request.customer_ref[:MAX_PROTO_STRING],
            request.parent_id[:64],
        )
        return assistants_pb2.ObjectResponse(object=object_to(found))

    @rpc
    async def UpdateObject(
        self, request: assistants_pb2.UpdateObjectRequest, context: Context
    ) -> assistants_pb2.ObjectResponse:
        target = request.target
        found = await assistants.update(
            self.core,
            self.auth.principal(context),
            (target.id, target.kind, target.customer_ref[:MAX_PROTO_STRING], target.parent_id[:64]),
            (request.body_json, request.private_json, request.status),
            tuple(status[:32] for status in request.only_from_status[:MAX_STATUSES]),
        )
        return assistants_pb2.ObjectResponse(object=object_to(found))

    @rpc
    async def ListObjects(
        self, request: assistants_pb2.ListObjectsRequest, context: Context
    ) -> assistants_pb2.ListObjectsResponse:
        ask = assistants.ListAsk(
            kind=request.kind,
            parent_id=request.parent_id[:64],
            customer_ref=request.customer_ref[:MAX_PROTO_STRING],
            limit=request.limit,
            order=request.order[:10],
            after=request.after[:64],
            before=request.before[:64],
        )
        found, has_more = await assistants.list_objects(self.core, self.auth.principal(context), ask)
        return assistants_pb2.ListObjectsResponse(objects=[object_to(o) for o in found], has_more=has_more)

    @rpc
    async def DeleteObject(
        self, request: assistants_pb2.GetObjectRequest, context: Context
    ) -> assistants_pb2.DeleteObjectResponse:
        deleted = await assistants.delete(
            self.core,
            self.auth.principal(context),
            request.id,
            request.kind,
            request.customer_ref[:MAX_PROTO_STRING],
            request.parent_id[:64],
        )
        return assistants_pb2.DeleteObjectResponse(id=deleted)

    @rpc
    async def PendingRuns(
        self, request: assistants_pb2.PendingRunsRequest, context: Context
    ) -> assistants_pb2.PendingRunsResponse:
        self.auth.internal(context)
        runs = await assistants.pending_runs(self.core, request.limit)
        return assistants_pb2.PendingRunsResponse(runs=[object_to(run) for run in runs])
