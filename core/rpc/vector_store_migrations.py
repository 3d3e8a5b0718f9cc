"""VectorStoresService's migration methods (issue 17), mixed into VectorStoresServicer."""

from __future__ import annotations

from core.domain.vector_store_files import VectorStoreFile
from core.domain.vector_store_migrations import VectorStoreMigration
from core.rpc.base import MAX_PROTO_STRING, Base, Context, rpc
from core.rpc.fanout import ask_peers, interleave, local_only, merge_cursor_pages
from core.services import vector_store_ingests
from core.services import vector_store_migrations as migrations
from core.services.vector_store_files import rows_of
from ringside.core.v1 import vector_stores_pb2 as pb

MAX_INDEXED_STORES = 100  # stores per IndexedStores page
PENDING_MIGRATIONS = "/ringside.core.v1.VectorStoresService/PendingMigrations"
INDEXED_STORES = "/ringside.core.v1.VectorStoresService/IndexedStores"


def migration_to(m: VectorStoreMigration) -> pb.Migration:
    return pb.Migration(
        id=m.id,
        store_id=m.store_id,
        status=m.status,
        from_model=m.from_model,
        to_model=m.to_model,
        to_model_requested=m.to_model_requested,
        from_generation=m.from_generation,
        to_generation=m.to_generation,
        created=m.created,
        completed_at=m.completed_at or 0,
        rollback_until=m.rollback_until or 0,
        files_total=m.files_total,
        files_done=m.files_done,
        chunks_done=m.chunks_done,
        embedding_tokens=m.embedding_tokens,
        last_error_code=m.last_error_code,
        last_error_message=m.last_error_message,
        retired=m.retired,
        customer_id=m.customer_id or "",
        account_id=m.account_id,
        livemode=m.livemode,
        key_id=m.key_id,
        from_model_requested=m.from_model_requested,
    )


class MigrationMethods(Base):
    @rpc
    async def StartMigration(self, request: pb.StartMigrationRequest, context: Context) -> pb.MigrationResponse:
        started = await migrations.start(
            self.core,
            self.auth.principal(context),
            request.store_id[:100],
            request.customer_ref[:MAX_PROTO_STRING],
            request.embedding_model[:MAX_PROTO_STRING],
            request.embedding_model_requested[:MAX_PROTO_STRING],
        )
        return pb.MigrationResponse(migration=migration_to(started))

    @rpc
    async def GetMigration(self, request: pb.MigrationRequest, context: Context) -> pb.MigrationResponse:
        found = migrations.get(self.core, self.auth.principal(context), *_ids(request))
        return pb.MigrationResponse(migration=migration_to(found))

    @rpc
    async def ListMigrations(self, request: pb.ListMigrationsRequest, context: Context) -> pb.ListMigrationsResponse:
        page, more = migrations.list_migrations(
            self.core,
            self.auth.principal(context),
            request.store_id[:100],
            request.customer_ref[:MAX_PROTO_STRING],
            request.limit,
            request.order[:10],
            request.after[:100],
        )
        return pb.ListMigrationsResponse(migrations=[migration_to(m) for m in page], has_more=more)

    @rpc
    async def CancelMigration(self, request: pb.MigrationRequest, context: Context) -> pb.MigrationResponse:
        cancelled = await migrations.cancel(self.core, self.auth.principal(context), *_ids(request))
        return pb.MigrationResponse(migration=migration_to(cancelled))

    @rpc
    async def RollbackMigration(self, request: pb.MigrationRequest, context: Context) -> pb.MigrationResponse:
        rolled = await migrations.rollback(self.core, self.auth.principal(context), *_ids(request))
        return pb.MigrationResponse(migration=migration_to(rolled))

    @rpc
    async def PendingMigrations(
        self, request: pb.PendingMigrationsRequest, context: Context
    ) -> pb.PendingMigrationsResponse:
        self.auth.internal(context)
        found = [migration_to(m) for m in migrations.pending(self.core, request.limit)]
        if not local_only(self.core, context):  # several active cores: each lists its own accounts'
            others = await ask_peers(
                self.core,
                context,
                PENDING_MIGRATIONS,
                request,
                pb.PendingMigrationsResponse.FromString,
                partial_ok=True,
            )
            found = interleave([found, *(o.migrations for o in others)], lambda m: m.id, request.limit)
        return pb.PendingMigrationsResponse(migrations=found)

    @rpc
    async def GetMigrationJob(self, request: pb.MigrationJobRequest, context: Context) -> pb.MigrationJobResponse:
        from core.rpc.vector_stores import store_to  # that module mixes this one in

        self.auth.internal(context)
        migration, store = migrations.job(self.core, request.migration_id[:100])
        rows = rows_of(self.core, store.id)
        return pb.MigrationJobResponse(
            migration=migration_to(migration),
            store=store_to(store, rows),
            files=self._completed_files(rows),
            waiting_files=migrations.waiting_files(self.core, migration),
        )

    def _completed_files(self, rows: list[VectorStoreFile]) -> list[pb.MigrationFile]:
        """A store's completed files, by file id, as they are re-embedded from their cached parses."""
        files = []
        for row in sorted(rows, key=lambda r: r.file_id):
            stored = self.core.state.files.get(row.file_id)
            if row.status == "completed" and stored is not None:
                files.append(
                    pb.MigrationFile(
                        file_id=row.file_id,
                        filename=stored.filename,
                        sha256=stored.sha256,
                        chunking_json=row.chunking_json,
                        attributes_json=row.attributes_json,
                        attributes_version=row.attributes_version,
                    )
                )
        return files

    @rpc
    async def IndexedStores(self, request: pb.IndexedStoresRequest, context: Context) -> pb.IndexedStoresResponse:
        """The live stores after `after` with their completed files: what a rebuilt index holds."""
        from core.rpc.vector_stores import store_to

        self.auth.internal(context)
        limit = request.limit if 0 < request.limit <= MAX_INDEXED_STORES else MAX_INDEXED_STORES
        ids = sorted(i for i, s in self.core.state.vector_stores.items() if s.deleted_at is None and i > request.after)
        page = []
        for store_id in ids[:limit]:
            rows = rows_of(self.core, store_id)
            store = store_to(self.core.state.vector_stores[store_id], rows)
            page.append(pb.IndexedStore(store=store, files=self._completed_files(rows)))
        if local_only(self.core, context):
            return pb.IndexedStoresResponse(stores=page, has_more=len(ids) > limit)
        # Several active cores: a walk by store id over every core's stores (a rebuild must miss none).
        others = await ask_peers(self.core, context, INDEXED_STORES, request, pb.IndexedStoresResponse.FromString)
        pages = [(page, page[-1].store.id if page else "", len(ids) > limit)]
        pages += [(list(o.stores), o.stores[-1].store.id if o.stores else "", o.has_more) for o in others]
        merged, _, more = merge_cursor_pages(pages, lambda s: s.store.id, limit)
        return pb.IndexedStoresResponse(stores=merged, has_more=more)

    @rpc
    async def ProgressMigration(self, request: pb.ProgressMigrationRequest, context: Context) -> pb.MigrationResponse:
        self.auth.internal(context)
        now = await migrations.progress(
            self.core, request.migration_id[:100], request.files_done, request.chunks_done, request.embedding_tokens
        )
        return pb.MigrationResponse(migration=migration_to(now))

    @rpc
    async def FinishMigration(self, request: pb.FinishMigrationRequest, context: Context) -> pb.FinishMigrationResponse:
        self.auth.internal(context)
        finished, waiting = await migrations.finish(
            self.core,
            request.migration_id[:100],
            request.status[:20],
            request.last_error_code[:40],
            request.last_error_message[:MAX_PROTO_STRING],
            request.embedding_tokens,
        )
        return pb.FinishMigrationResponse(migration=migration_to(finished), waiting_files=waiting)

    @rpc
    async def RetireMigration(self, request: pb.MigrationJobRequest, context: Context) -> pb.RetireMigrationResponse:
        self.auth.internal(context)
        retired, drop = await migrations.retire(self.core, request.migration_id[:100])
        return pb.RetireMigrationResponse(migration=migration_to(retired), drop_generation=drop)

    @rpc
    async def CancelStoreFile(self, request: pb.StoreFileRequest, context: Context) -> pb.StoreFileResponse:
        row = await vector_store_ingests.cancel(self.core, self.auth.principal(context), *_file_ids(request))
        return self._file_answer(row)

    @rpc
    async def RetryStoreFile(self, request: pb.StoreFileRequest, context: Context) -> pb.StoreFileResponse:
        from core.rpc.vector_stores import file_to

        row = await vector_store_ingests.retry(self.core, self.auth.principal(context), *_file_ids(request))
        return pb.StoreFileResponse(file=file_to(row, self._generation(row.store_id)))

    @rpc
    async def ReportIngestProgress(
        self, request: pb.IngestProgressRequest, context: Context
    ) -> pb.IngestProgressResponse:
        self.auth.internal(context)
        status = vector_store_ingests.progressed(
            self.core, request.store_id[:100], request.file_id[:100], request.attach_id[:100]
        )
        return pb.IngestProgressResponse(status=status)

    def _generation(self, store_id: str) -> int:
        store = self.core.state.vector_stores.get(store_id)
        return store.generation if store else 0

    def _file_answer(self, row: VectorStoreFile) -> pb.StoreFileResponse:
        """A file the edge changes in its store's index: at the store's generation, and at the one a
        migration running is building (that half-built index may hold the file too)."""
        from core.rpc.vector_stores import file_to

        answer = pb.StoreFileResponse(file=file_to(row, self._generation(row.store_id)))
        migrating = migrations.running(self.core, row.store_id)
        if migrating is not None:
            answer.file.migrating_generation = migrating.to_generation
        return answer


def _file_ids(request: pb.StoreFileRequest) -> tuple[str, str, str]:
    return request.store_id[:100], request.customer_ref[:MAX_PROTO_STRING], request.file_id[:100]


def _ids(request: pb.MigrationRequest) -> tuple[str, str, str]:
    return request.store_id[:100], request.customer_ref[:MAX_PROTO_STRING], request.migration_id[:100]
