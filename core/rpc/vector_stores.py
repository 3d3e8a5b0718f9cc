"""VectorStoresService."""

from __future__ import annotations

from core.domain.vector_stores import VectorStore
from core.rpc.base import MAX_PROTO_STRING, Base, Context, rpc
from core.services import vector_stores
from core.services.vector_stores import MAX_JSON, StoreInput
from ringside.core.v1 import vector_stores_pb2, vector_stores_pb2_grpc

pb = vector_stores_pb2


def store_to(store: VectorStore) -> pb.VectorStore:
    return pb.VectorStore(
        id=store.id,
        livemode=store.livemode,
        customer_id=store.customer_id or "",
        name=store.name,
        embedding_model=store.embedding_model,
        embedding_model_requested=store.embedding_model_requested,
        chunking_json=store.chunking_json,
        metadata_json=store.metadata_json,
        expires_after_days=store.expires_after_days or 0,
        shared=store.shared,
        generation=store.generation,
        created=store.created,
        last_active_at=store.last_active_at,
    )


class VectorStoresServicer(Base, vector_stores_pb2_grpc.VectorStoresServiceServicer):
    @rpc
    async def CreateVectorStore(
        self, request: pb.CreateVectorStoreRequest, context: Context
    ) -> pb.CreateVectorStoreResponse:
        fields = StoreInput(
            name=request.name[:MAX_PROTO_STRING],
            embedding_model=request.embedding_model[:MAX_PROTO_STRING],
            embedding_model_requested=request.embedding_model_requested[:MAX_PROTO_STRING],
            chunking_json=request.chunking_json[: MAX_JSON + 1],
            metadata_json=request.metadata_json[: MAX_JSON + 1],
            expires_after_days=request.expires_after_days,
            shared=request.shared,
        )
        principal = self.auth.principal(context)
        store = await vector_stores.create(self.core, principal, request.customer_ref[:MAX_PROTO_STRING], fields)
        return pb.CreateVectorStoreResponse(store=store_to(store))

    @rpc
    async def GetVectorStore(self, request: pb.GetVectorStoreRequest, context: Context) -> pb.GetVectorStoreResponse:
        principal = self.auth.principal(context)
        store = vector_stores.get(self.core, principal, request.id[:100], request.customer_ref[:MAX_PROTO_STRING])
        return pb.GetVectorStoreResponse(store=store_to(store))

    @rpc
    async def ListVectorStores(
        self, request: pb.ListVectorStoresRequest, context: Context
    ) -> pb.ListVectorStoresResponse:
        items, has_more = vector_stores.list_stores(
            self.core,
            self.auth.principal(context),
            request.customer_ref[:MAX_PROTO_STRING],
            request.limit,
            request.order[:10],
            request.after[:100],
            request.before[:100],
            request.customer_id[:MAX_PROTO_STRING],
        )
        return pb.ListVectorStoresResponse(stores=[store_to(s) for s in items], has_more=has_more)

    @rpc
    async def UpdateVectorStore(
        self, request: pb.UpdateVectorStoreRequest, context: Context
    ) -> pb.UpdateVectorStoreResponse:
        store = await vector_stores.update(
            self.core,
            self.auth.principal(context),
            request.id[:100],
            request.customer_ref[:MAX_PROTO_STRING],
            request.name[:MAX_PROTO_STRING] if request.HasField("name") else None,
            request.metadata_json[: MAX_JSON + 1] if request.HasField("metadata_json") else None,
            request.expires_after_days if request.HasField("expires_after_days") else None,
        )
        return pb.UpdateVectorStoreResponse(store=store_to(store))

    @rpc
    async def DeleteVectorStore(
        self, request: pb.DeleteVectorStoreRequest, context: Context
    ) -> pb.DeleteVectorStoreResponse:
        principal = self.auth.principal(context)
        store = await vector_stores.delete(
            self.core, principal, request.id[:100], request.customer_ref[:MAX_PROTO_STRING]
        )
        return pb.DeleteVectorStoreResponse(store=store_to(store))
