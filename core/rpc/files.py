"""FilesService."""

from __future__ import annotations

from core.domain.files import StoredFile
from core.rpc.base import MAX_PROTO_STRING, Base, Context, rpc
from core.rpc.fanout import ask_peers, local_only, merge_live
from core.services import files
from ringside.core.v1 import files_pb2, files_pb2_grpc


def file_to(stored: StoredFile) -> files_pb2.File:
    return files_pb2.File(
        id=stored.id,
        livemode=stored.livemode,
        customer_id=stored.customer_id or "",
        filename=stored.filename,
        purpose=stored.purpose,
        bytes=stored.bytes,
        sha256=stored.sha256,
        created=stored.created,
    )


LIVE_RAG_OBJECTS = "/ringside.core.v1.FilesService/LiveRagObjects"


class FilesServicer(Base, files_pb2_grpc.FilesServiceServicer):
    @rpc
    async def CreateFile(self, request: files_pb2.CreateFileRequest, context: Context) -> files_pb2.CreateFileResponse:
        stored = await files.create(
            self.core,
            self.auth.principal(context),
            request.id[:100],
            request.customer_ref[:MAX_PROTO_STRING],
            request.filename[:MAX_PROTO_STRING],
            request.purpose[:100],
            request.bytes,
            request.sha256[:100],
        )
        return files_pb2.CreateFileResponse(file=file_to(stored))

    @rpc
    async def GetFile(self, request: files_pb2.GetFileRequest, context: Context) -> files_pb2.GetFileResponse:
        principal = self.auth.principal(context)
        stored = files.get(self.core, principal, request.id[:100], request.customer_ref[:MAX_PROTO_STRING])
        return files_pb2.GetFileResponse(file=file_to(stored))

    @rpc
    async def ListFiles(self, request: files_pb2.ListFilesRequest, context: Context) -> files_pb2.ListFilesResponse:
        items, has_more = files.list_files(
            self.core,
            self.auth.principal(context),
            request.customer_ref[:MAX_PROTO_STRING],
            request.purpose[:100],
            request.limit,
            request.order[:10],
            request.after[:100],
            request.customer_id[:MAX_PROTO_STRING],
        )
        return files_pb2.ListFilesResponse(files=[file_to(f) for f in items], has_more=has_more)

    @rpc
    async def DeleteFile(self, request: files_pb2.DeleteFileRequest, context: Context) -> files_pb2.DeleteFileResponse:
        principal = self.auth.principal(context)
        stored, left = await files.delete(
            self.core, principal, request.id[:100], request.customer_ref[:MAX_PROTO_STRING]
        )
        return files_pb2.DeleteFileResponse(
            id=stored.id,
            detached_from=[files_pb2.DetachedFrom(store_id=store_id, generation=gen) for store_id, gen in left],
        )

    @rpc
    async def LiveRagObjects(
        self, request: files_pb2.LiveRagObjectsRequest, context: Context
    ) -> files_pb2.LiveRagObjectsResponse:
        self.auth.internal(context)
        served = self.core.ownership.serving  # what this core's memory holds as it answers (no await below)
        live_files, live_stores, live_contents = files.live_rag_objects(
            self.core,
            [i[:100] for i in request.file_ids],
            [i[:100] for i in request.store_ids],
            [i[:100] for i in request.sha256s],
        )
        pairs = [(pair.store_id[:100], pair.file_id[:100]) for pair in request.attachments]
        attached = [files_pb2.StoreFilePair(store_id=s, file_id=f) for s, f in files.live_attachments(self.core, pairs)]
        answer = files_pb2.LiveRagObjectsResponse(
            file_ids=live_files, store_ids=live_stores, sha256s=live_contents, attachments=attached
        )
        if served is None:  # one active core: every partition
            return answer
        answer.served_partitions.extend(sorted(served))
        if local_only(self.core, context):
            return answer
        # Several active cores: an id is live when any core says so. An object missing from the
        # answer is deleted by the sweep, so a core not answering refuses the whole call (ask_peers),
        # and so does a partition no answering core served (between two owners): a missed sweep
        # loses nothing (workers/rag_ingest/sweep.py).
        others = await ask_peers(
            self.core, context, LIVE_RAG_OBJECTS, request, files_pb2.LiveRagObjectsResponse.FromString
        )
        return merge_live(answer, others, self.core.ownership.partitions)
