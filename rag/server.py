"""The rag role's gRPC service (ringside.rag.v1.RagService): a translator around the rag domain —
proto in, domain call, proto out — like core/server.py around core/domain/.

    ringside rag serve [--port 50053] [--index-path DIR] [--qdrant-url URL] [--threads 2]

`ringside up` starts it (after the core) and supervises it like the other roles; it heartbeats to
the core, so /healthz and `ringside status` show it.

Callers present the internal token (`x-ringside-internal`), as with the core. The embedding model
and the embedded index are blocking native code: they run on executors, the embedder on a single
thread (one ONNX session, one caller at a time), the index on a few.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hmac
import json
import logging
import pathlib
import signal
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from prometheus_client import CollectorRegistry

from rag import background
from rag.embedder import DIMENSIONS, LOCAL_MODEL_REF, EmbeddingInputError, Embeddings, LocalEmbedder
from rag.errors import InvalidRequestError
from rag.fence import FencedIndexes, FileFence
from rag.filters import parse_filter
from rag.index import CollectionLayout, IndexNotFoundError, IndexPoint, VectorIndexes, index_name, open_indexes
from rag.optimize import OptimizePolicy
from ringside.rag.v1 import rag_pb2, rag_pb2_grpc
from ringside_server.file_store import FileStore
from ringside_server.observability.grpc_server import RpcMetrics
from ringside_server.observability.metrics import serve_metrics
from ringside_server.settings import Settings
from ringside_server.temporal_connection import TemporalConnection

log = logging.getLogger("ringside.rag")
INTERNAL_KEY = "x-ringside-internal"
SERVICE_NAME = rag_pb2.DESCRIPTOR.services_by_name["RagService"].full_name
MAX_MESSAGE_BYTES = 16 * 1024 * 1024  # an upsert of 1024 384-d points with their text fits well inside
_Result = TypeVar("_Result")


@dataclass(frozen=True)
class RagOptions:
    """What `ringside rag serve` was started with."""

    bind_host: str
    port: int
    index_path: pathlib.Path
    qdrant_url: str | None
    internal_token: str
    qdrant_api_key: str | None = dataclasses.field(default=None, repr=False)
    qdrant_layout: CollectionLayout | None = None
    threads: int = 2
    drain_timeout_s: float = 10.0
    # Where to report readiness (`ringside up`'s /healthz waits for the rag role); None: nowhere.
    core_address: str | None = None
    metrics_port: int = 0  # RINGSIDE_RAG_METRICS_PORT (0: none)
    # The ingest workflows (Temporal worker and starter on the rag task queue); None: no ingest.
    temporal: TemporalConnection | None = None
    files: FileStore | None = None  # the file store the edge writes uploads to
    parse_cache: pathlib.Path | None = None
    vision_model: str = ""  # RINGSIDE_RAG_VISION_MODEL: images are read through it (issue 17)
    transcription_model: str = ""  # RINGSIDE_RAG_TRANSCRIPTION_MODEL: audio is
    sweep_interval_s: float = 300.0  # the sweep of deleted files' and stores' leftovers (0: none)
    partial_upload_ttl_s: float = 3600.0
    sweep_grace_s: float = 60.0
    optimize_interval_s: float = 60.0  # the optimize policy (rag/optimize.py; 0: none)
    optimize_min_points: int = 10_000
    # Providers for ingest with a non-local embedding model (None: the settings from the environment).
    settings: Settings | None = None


class RagServicer(rag_pb2_grpc.RagServiceServicer):
    """RagService over one embedder and one set of indexes."""

    def __init__(self, embedder: LocalEmbedder, indexes: VectorIndexes, internal_token: str) -> None:
        self._embedder = embedder
        self._indexes = indexes
        self._internal = internal_token.encode()
        self._embed_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rag-embed")
        self._index_executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="rag-index")

    def close(self) -> None:
        """Stops the executors (after the server has drained)."""
        self._embed_executor.shutdown(wait=True)
        self._index_executor.shutdown(wait=True)

    async def Embed(self, request: rag_pb2.EmbedRequest, context: grpc.aio.ServicerContext) -> rag_pb2.EmbedResponse:
        async def call() -> rag_pb2.EmbedResponse:
            if request.model and request.model != LOCAL_MODEL_REF:
                raise InvalidRequestError("model", f"only {LOCAL_MODEL_REF} is served by the rag role")
            embeddings = await self._run(self._embed_executor, self._embedder.embed, list(request.texts))
            return rag_pb2.EmbedResponse(
                embeddings=[rag_pb2.Vector(values=vector.tolist()) for vector in embeddings.vectors],
                token_counts=embeddings.token_counts,
                total_tokens=sum(embeddings.token_counts),
            )

        return await self._guarded(context, call)

    async def Upsert(self, request: rag_pb2.UpsertRequest, context: grpc.aio.ServicerContext) -> rag_pb2.UpsertResponse:
        async def call() -> rag_pb2.UpsertResponse:
            name = _index(request.index)
            points = [_point(point) for point in request.points]

            def write() -> None:
                self._indexes.create(name, DIMENSIONS)
                self._indexes.upsert(name, points)

            await self._run(self._index_executor, write)
            return rag_pb2.UpsertResponse(upserted=len(points))

        return await self._guarded(context, call)

    async def Search(self, request: rag_pb2.SearchRequest, context: grpc.aio.ServicerContext) -> rag_pb2.SearchResponse:
        async def call() -> rag_pb2.SearchResponse:
            name = _index(request.index)
            tree = parse_filter(json.loads(request.filters_json)) if request.filters_json else None
            vector, query_tokens = list(request.vector), 0
            if request.query:
                embeddings = await self._run(self._embed_executor, self._embedder.embed, [request.query])
                vector, query_tokens = embeddings.vectors[0].tolist(), embeddings.token_counts[0]
            threshold = request.score_threshold if request.HasField("score_threshold") else None
            hits = await self._run(
                self._index_executor, self._indexes.search, name, vector, request.max_num_results, tree, threshold
            )
            return rag_pb2.SearchResponse(
                hits=[
                    rag_pb2.SearchHit(
                        id=hit.id,
                        score=hit.score,
                        file_id=hit.file_id,
                        filename=hit.filename,
                        chunk_index=hit.chunk_index,
                        text=hit.text,
                        attributes_json=json.dumps(hit.attributes),
                    )
                    for hit in hits
                ],
                query_tokens=query_tokens,
            )

        return await self._guarded(context, call)

    async def DeleteFile(
        self, request: rag_pb2.DeleteFileRequest, context: grpc.aio.ServicerContext
    ) -> rag_pb2.DeleteFileResponse:
        async def call() -> rag_pb2.DeleteFileResponse:
            name = _index(request.index)
            with contextlib.suppress(IndexNotFoundError):  # nothing indexed yet: nothing to remove
                await self._run(self._index_executor, self._indexes.delete_file, name, request.file_id)
            return rag_pb2.DeleteFileResponse()

        return await self._guarded(context, call)

    async def SetFileAttributes(
        self, request: rag_pb2.SetFileAttributesRequest, context: grpc.aio.ServicerContext
    ) -> rag_pb2.SetFileAttributesResponse:
        async def call() -> rag_pb2.SetFileAttributesResponse:
            name = _index(request.index)
            attributes = _attributes(request.attributes_json, "attributes_json")
            with contextlib.suppress(IndexNotFoundError):  # nothing indexed yet: the ingest writes the row's
                await self._run(
                    self._index_executor,
                    self._indexes.set_attributes,
                    name,
                    request.file_id,
                    attributes,
                    request.attributes_version,
                )
            return rag_pb2.SetFileAttributesResponse()

        return await self._guarded(context, call)

    async def DropIndex(
        self, request: rag_pb2.DropIndexRequest, context: grpc.aio.ServicerContext
    ) -> rag_pb2.DropIndexResponse:
        async def call() -> rag_pb2.DropIndexResponse:
            await self._run(self._index_executor, self._indexes.drop, _index(request.index))
            return rag_pb2.DropIndexResponse()

        return await self._guarded(context, call)

    async def embed(self, texts: list[str]) -> Embeddings:
        """The local model's vectors, on its one thread (the ingest activities share it with Embed)."""
        return await self._run(self._embed_executor, self._embedder.embed, texts)

    async def on_index(self, function: Callable[..., _Result], *args: Any) -> _Result:
        """A blocking index call, on the index threads."""
        return await self._run(self._index_executor, function, *args)

    @property
    def indexes(self) -> VectorIndexes:
        return self._indexes

    @property
    def embedder(self) -> LocalEmbedder:
        return self._embedder

    async def _run(self, executor: ThreadPoolExecutor, function: Callable[..., _Result], *args: Any) -> _Result:
        return await asyncio.get_running_loop().run_in_executor(executor, function, *args)

    async def _guarded(self, context: grpc.aio.ServicerContext, call: Callable[[], Awaitable[_Result]]) -> _Result:
        """Checks the internal token, runs the call and maps domain errors to status codes (one place)."""
        token = dict(context.invocation_metadata() or ()).get(INTERNAL_KEY, "")
        if not hmac.compare_digest(str(token).encode(), self._internal):
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "the rag role takes calls from Ringside's roles only")
        try:
            return await call()
        except IndexNotFoundError as error:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no index {error}")
        except InvalidRequestError as error:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"{error.param}: {error.message}")
        except (EmbeddingInputError, ValueError) as error:  # json.JSONDecodeError is a ValueError
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(error))
        raise AssertionError("unreachable: abort raises")


def _index(reference: rag_pb2.IndexRef) -> str:
    if not reference.store_id:
        raise InvalidRequestError("index.store_id", "index.store_id is required")
    return index_name(reference.store_id, reference.generation)


def _attributes(attributes_json: str, param: str) -> dict[str, Any]:
    attributes = json.loads(attributes_json) if attributes_json else {}
    if not isinstance(attributes, dict):
        raise InvalidRequestError(param, "attributes must be a JSON object")
    return attributes


def _point(point: rag_pb2.Point) -> IndexPoint:
    attributes = _attributes(point.attributes_json, "points.attributes_json")
    return IndexPoint(
        id=point.id,
        vector=list(point.vector),
        file_id=point.file_id,
        chunk_index=point.chunk_index,
        text=point.text,
        filename=point.filename,
        attributes=attributes,
        attributes_version=point.attributes_version,
    )


def build_server(
    servicer: RagServicer, address: str, interceptors: list[grpc.aio.ServerInterceptor] | None = None
) -> tuple[grpc.aio.Server, HealthServicer]:
    """The gRPC server with RagService and health, bound to `address`."""
    server = grpc.aio.server(
        interceptors=interceptors,
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            ("grpc.so_reuseport", 0),
        ],
    )
    rag_pb2_grpc.add_RagServiceServicer_to_server(servicer, server)
    health_servicer = HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    if server.add_insecure_port(address) == 0:
        raise SystemExit(f"rag: cannot bind gRPC to {address}")
    return server, health_servicer


async def serve(options: RagOptions) -> None:
    """Runs the rag role until SIGINT or SIGTERM."""
    fence = FileFence()  # the sweep's against ingests' writes (rag/fence.py)
    indexes = FencedIndexes(
        open_indexes(
            path=options.index_path,
            url=options.qdrant_url,
            api_key=options.qdrant_api_key,
            layout=options.qdrant_layout,
        ),
        fence,
    )
    embedder = LocalEmbedder(threads=options.threads)
    servicer = RagServicer(embedder, indexes, options.internal_token)
    interceptors: list[grpc.aio.ServerInterceptor] = []
    if options.metrics_port:
        registry = CollectorRegistry(auto_describe=True)
        interceptors.append(RpcMetrics(registry))
        serve_metrics(registry, options.bind_host, options.metrics_port)
    server, health_servicer = build_server(servicer, f"{options.bind_host}:{options.port}", interceptors)
    await server.start()
    for name in ("", SERVICE_NAME, health.SERVICE_NAME):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    log.info("rag serving gRPC on %s:%d", options.bind_host, options.port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    heartbeat = asyncio.create_task(background.heartbeat(options)) if options.core_address else None
    ingesting = asyncio.create_task(background.ingest(options, servicer)) if options.temporal else None
    sweeps = options.core_address and options.files and options.parse_cache and options.sweep_interval_s
    sweeping = asyncio.create_task(background.sweep(options, indexes, fence)) if sweeps else None
    policy = OptimizePolicy(indexes, options.optimize_min_points)
    optimizing = asyncio.create_task(policy.run(options.optimize_interval_s)) if options.optimize_interval_s else None
    await stop.wait()
    log.info("rag stopping")
    for task in (optimizing, sweeping, ingesting, heartbeat):
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    await health_servicer.enter_graceful_shutdown()
    await server.stop(grace=options.drain_timeout_s)
    servicer.close()
    with contextlib.suppress(Exception):
        indexes.close()
    log.info("rag stopped")
