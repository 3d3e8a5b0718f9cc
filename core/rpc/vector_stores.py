"""VectorStoresService."""

from __future__ import annotations

import orjson

from core.domain.vector_store_files import MAX_BATCH, VectorStoreFile, file_counts
from core.domain.vector_stores import VectorStore
from core.rpc.base import MAX_PROTO_STRING, Context, rpc
from core.rpc.fanout import ask_peers, interleave, local_only
from core.rpc.vector_store_migrations import MigrationMethods, migration_to
from core.services import vector_store_files, vector_store_migrations, vector_store_queries, vector_stores
from core.services.vector_store_files import BatchFile, rows_of
from core.services.vector_stores import MAX_JSON, StoreInput
from ringside.core.v1 import vector_stores_pb2, vector_stores_pb2_grpc
from ringside_server.errors import RingsideError

pb = vector_stores_pb2
PENDING_INGESTS = "/ringside.core.v1.VectorStoresService/PendingIngests"


def store_to(store: VectorStore, rows: list[VectorStoreFile]) -> pb.VectorStore:
    counts = file_counts(rows)
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
        files_in_progress=counts["in_progress"],
        files_completed=counts["completed"],
        files_failed=counts["failed"],
        files_cancelled=counts["cancelled"],
        usage_bytes=sum(r.usage_bytes for r in rows),
    )


def file_to(row: VectorStoreFile, generation: int = 0) -> pb.StoreFile:
    return pb.StoreFile(
        store_id=row.store_id,
        file_id=row.file_id,
        customer_id=row.customer_id or "",
        status=row.status,
        attributes_json=row.attributes_json,
        chunking_json=row.chunking_json,
        chunk_count=row.chunk_count,
        usage_bytes=row.usage_bytes,
        last_error_code=row.last_error_code,
        last_error_message=row.last_error_message,
        created=row.created,
        generation=generation,
        attach_id=row.attach_id,
        batch_id=row.batch_id,
        key_id=row.key_id,
        progress_at=row.updated,
        attributes_version=row.attributes_version,
    )


class VectorStoresServicer(MigrationMethods, vector_stores_pb2_grpc.VectorStoresServiceServicer):
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
        return pb.CreateVectorStoreResponse(store=store_to(store, rows_of(self.core, store.id)))

    @rpc
    async def GetVectorStore(self, request: pb.GetVectorStoreRequest, context: Context) -> pb.GetVectorStoreResponse:
        principal = self.auth.principal(context)
        store = vector_stores.get(self.core, principal, request.id[:100], request.customer_ref[:MAX_PROTO_STRING])
        return pb.GetVectorStoreResponse(store=store_to(store, rows_of(self.core, store.id)))

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
        return pb.ListVectorStoresResponse(
            stores=[store_to(s, rows_of(self.core, s.id)) for s in items], has_more=has_more
        )

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
        return pb.UpdateVectorStoreResponse(store=store_to(store, rows_of(self.core, store.id)))

    @rpc
    async def DeleteVectorStore(
        self, request: pb.DeleteVectorStoreRequest, context: Context
    ) -> pb.DeleteVectorStoreResponse:
        principal = self.auth.principal(context)
        store = await vector_stores.delete(
            self.core, principal, request.id[:100], request.customer_ref[:MAX_PROTO_STRING]
        )
        return pb.DeleteVectorStoreResponse(store=store_to(store, rows_of(self.core, store.id)))

    @rpc
    async def AttachFile(self, request: pb.AttachFileRequest, context: Context) -> pb.StoreFileResponse:
        row = await vector_store_files.attach(
            self.core,
            self.auth.principal(context),
            request.store_id[:100],
            request.customer_ref[:MAX_PROTO_STRING],
            request.file_id[:100],
            request.attributes_json[: MAX_JSON + 1],
            request.chunking_json[: MAX_JSON + 1],
        )
        return pb.StoreFileResponse(file=file_to(row))

    @rpc
    async def GetStoreFile(self, request: pb.StoreFileRequest, context: Context) -> pb.StoreFileResponse:
        row = vector_store_files.get(
            self.core,
            self.auth.principal(context),
            request.store_id[:100],
            request.customer_ref[:MAX_PROTO_STRING],
            request.file_id[:100],
        )
        return pb.StoreFileResponse(file=file_to(row))

    @rpc
    async def ListStoreFiles(self, request: pb.ListStoreFilesRequest, context: Context) -> pb.ListStoreFilesResponse:
        rows, has_more = vector_store_files.list_files(
            self.core,
            self.auth.principal(context),
            request.store_id[:100],
            request.customer_ref[:MAX_PROTO_STRING],
            request.limit,
            request.order[:10],
            request.after[:100],
            request.before[:100],
            request.status[:20],
            request.batch_id[:100],
        )
        return pb.ListStoreFilesResponse(files=[file_to(r) for r in rows], has_more=has_more)

    @rpc
    async def DetachFile(self, request: pb.StoreFileRequest, context: Context) -> pb.StoreFileResponse:
        row = await vector_store_files.detach(
            self.core,
            self.auth.principal(context),
            request.store_id[:100],
            request.customer_ref[:MAX_PROTO_STRING],
            request.file_id[:100],
        )
        return self._file_answer(row)

    @rpc
    async def UpdateStoreFile(self, request: pb.StoreFileRequest, context: Context) -> pb.StoreFileResponse:
        row = await vector_store_files.update_attributes(
            self.core,
            self.auth.principal(context),
            request.store_id[:100],
            request.customer_ref[:MAX_PROTO_STRING],
            request.file_id[:100],
            request.attributes_json[: MAX_JSON + 1],
        )
        return self._file_answer(row)

    @rpc
    async def PendingIngests(self, request: pb.PendingIngestsRequest, context: Context) -> pb.PendingIngestsResponse:
        self.auth.internal(context)
        rows = vector_store_files.pending(self.core, request.limit)
        found = [
            pb.PendingIngest(
                store_id=r.store_id,
                file_id=r.file_id,
                created=r.created,
                customer_id=r.customer_id or "",
                account_id=r.account_id,
                attach_id=r.attach_id,
            )
            for r in rows
        ]
        if not local_only(self.core, context):  # several active cores: each lists its own accounts'
            others = await ask_peers(
                self.core, context, PENDING_INGESTS, request, pb.PendingIngestsResponse.FromString, partial_ok=True
            )
            found = interleave([found, *(o.ingests for o in others)], lambda i: (i.store_id, i.file_id), request.limit)
        return pb.PendingIngestsResponse(ingests=found)

    @rpc
    async def GetIngestJob(self, request: pb.IngestJobRequest, context: Context) -> pb.IngestJobResponse:
        self.auth.internal(context)
        store, row, stored = vector_store_files.job(self.core, request.store_id[:100], request.file_id[:100])
        answer = pb.IngestJobResponse(
            store=store_to(store, rows_of(self.core, store.id)),
            file=file_to(row, store.generation),
            filename=stored.filename,
            bytes=stored.bytes,
            sha256=stored.sha256,
        )
        migrating = vector_store_migrations.running(self.core, store.id)
        if migrating is not None:  # files attached during a migration are embedded with both models
            answer.migration.CopyFrom(migration_to(migrating))
        return answer

    @rpc
    async def FinishIngest(self, request: pb.FinishIngestRequest, context: Context) -> pb.StoreFileResponse:
        self.auth.internal(context)
        row = await vector_store_files.finish(
            self.core,
            request.store_id[:100],
            request.file_id[:100],
            request.attach_id[:100],
            request.status[:20],
            request.chunk_count,
            request.last_error_code[:40],
            request.last_error_message[:MAX_PROTO_STRING],
            request.chunking_json[:MAX_JSON],
            request.embedding_tokens,
        )
        return pb.StoreFileResponse(file=file_to(row))

    def _batch(self, batch_id: str, rows: list[VectorStoreFile]) -> pb.FileBatchResponse:
        store = self.core.state.vector_stores.get(rows[0].store_id) if rows else None
        return pb.FileBatchResponse(
            batch_id=batch_id,
            created=min(r.created for r in rows) if rows else 0,
            files=[file_to(r) for r in rows],
            cancelled=any(r.status == "cancelled" for r in rows),
            generation=store.generation if store else 0,
        )

    @rpc
    async def AttachFileBatch(self, request: pb.AttachFileBatchRequest, context: Context) -> pb.FileBatchResponse:
        if len(request.file_ids) > MAX_BATCH or len(request.files) > MAX_BATCH:
            raise RingsideError("invalid_request", f"file_ids must hold 1..{MAX_BATCH} ids.", "file_ids")
        if request.file_ids and request.files:
            raise RingsideError("invalid_request", "Give file_ids or files, not both.", "files")
        entries = [
            BatchFile(f.file_id[:100], f.attributes_json[: MAX_JSON + 1], f.chunking_json[: MAX_JSON + 1])
            for f in request.files
        ] or [
            BatchFile(file_id[:100], request.attributes_json[: MAX_JSON + 1], request.chunking_json[: MAX_JSON + 1])
            for file_id in request.file_ids
        ]
        batch_id, rows = await vector_store_files.attach_batch(
            self.core,
            self.auth.principal(context),
            request.store_id[:100],
            request.customer_ref[:MAX_PROTO_STRING],
            entries,
        )
        return self._batch(batch_id, rows)

    @rpc
    async def GetFileBatch(self, request: pb.FileBatchRequest, context: Context) -> pb.FileBatchResponse:
        batch_id = request.batch_id[:100]
        rows = vector_store_files.batch(
            self.core,
            self.auth.principal(context),
            request.store_id[:100],
            request.customer_ref[:MAX_PROTO_STRING],
            batch_id,
        )
        return self._batch(batch_id, rows)

    @rpc
    async def CancelFileBatch(self, request: pb.FileBatchRequest, context: Context) -> pb.FileBatchResponse:
        batch_id = request.batch_id[:100]
        rows = await vector_store_files.cancel_batch(
            self.core,
            self.auth.principal(context),
            request.store_id[:100],
            request.customer_ref[:MAX_PROTO_STRING],
            batch_id,
        )
        return self._batch(batch_id, rows)

    @rpc
    async def RecordQuery(self, request: pb.RecordQueryRequest, context: Context) -> pb.RecordQueryResponse:
        row = await vector_store_queries.record(
            self.core,
            self.auth.principal(context),
            request.store_id[:100],
            request.customer_ref[:MAX_PROTO_STRING],
            request.query[: vector_store_queries.MAX_QUERY_CHARS],
            request.latency_ms,
            request.result_count,
            list(request.top_file_ids[: vector_store_queries.MAX_TOP_FILES]),
            request.embedding_tokens,
        )
        return pb.RecordQueryResponse(id=row.id)

    @rpc
    async def ListQueries(self, request: pb.ListQueriesRequest, context: Context) -> pb.ListQueriesResponse:
        rows, has_more = await vector_store_queries.list_queries(
            self.core,
            self.auth.principal(context),
            request.store_id[:100],
            request.customer_ref[:MAX_PROTO_STRING],
            request.limit,
            request.after[:100],
            request.before[:100],
        )
        return pb.ListQueriesResponse(
            queries=[
                pb.StoreQuery(
                    id=r.id,
                    customer_id=r.customer_id or "",
                    query=r.query,
                    created=r.created,
                    latency_ms=r.latency_ms,
                    result_count=r.result_count,
                    top_file_ids=orjson.loads(r.top_file_ids_json),
                    embedding_tokens=r.embedding_tokens,
                )
                for r in rows
            ],
            has_more=has_more,
        )

    @rpc
    async def GetStoreStats(self, request: pb.StoreStatsRequest, context: Context) -> pb.StoreStatsResponse:
        found = await vector_store_queries.stats(
            self.core,
            self.auth.principal(context),
            request.store_id[:100],
            request.customer_ref[:MAX_PROTO_STRING],
            request.window[:10],
        )
        rows = rows_of(self.core, found.store.id)
        return pb.StoreStatsResponse(
            query_count=found.query_count,
            latency_p50_ms=found.latency_p50_ms,
            latency_p95_ms=found.latency_p95_ms,
            zero_result_rate=found.zero_result_rate,
            top_files=[pb.TopFile(file_id=f, count=n) for f, n in found.top_files],
            embedding_tokens=found.embedding_tokens,
            store=store_to(found.store, rows),
            chunks_completed=sum(r.chunk_count for r in rows if r.status == "completed"),
            ingest_embedding_tokens=sum(r.embedding_tokens for r in rows),
        )
