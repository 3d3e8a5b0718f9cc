"""/v1/vector_stores/{id}/files (OpenAI's Vector Store Files API, issue 16): attach a file — the
answer is `in_progress` at once; the rag role's ingest workflow takes it to `completed` or `failed`
(workers/rag_ingest) — retrieve, list, detach. Only the store's owner reaches them; anything else is
404. Detaching removes the file's points from the index before it answers. Search
(`…/search`) is ringside_server/vector_search.py's `search_stores`, which file_search calls too."""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson
from aiohttp import web

from edge_http.context import EDGE, Edge
from edge_http.handlers.common import authorization, bearer, fc_customer, json_response, openai_list
from edge_http.openai.jsonio import parse_object
from edge_http.rag import stores as wire
from edge_http.rag.models import embedding_model_of
from ringside.core.v1 import vector_stores_pb2 as pb
from ringside_server.errors import RingsideError
from ringside_server.providers.catalog.load import CatalogModel

log = logging.getLogger("ringside.edge")


def render_file(row: pb.StoreFile, stall_s: int = 0) -> dict[str, Any]:
    """OpenAI's `vector_store.file`, plus Ringside's `chunk_count` and `stalled`: an ingest in
    progress without progress for `stall_s` (RINGSIDE_RAG_INGEST_STALL_S; 0: not looked at) says so
    in last_error, so it can be cancelled or retried."""
    error = {"code": row.last_error_code, "message": row.last_error_message} if row.last_error_code else None
    stalled = bool(stall_s and row.status == "in_progress" and time.time() - row.progress_at > stall_s)
    if stalled:
        error = {
            "code": "server_error",
            "message": f"The ingest has made no progress for over {stall_s} s: cancel or retry it.",
        }
    return {
        "id": row.file_id,
        "object": "vector_store.file",
        "usage_bytes": row.usage_bytes,
        "created_at": row.created,
        "vector_store_id": row.store_id,
        "status": row.status,
        "last_error": error,
        "chunking_strategy": orjson.loads(row.chunking_json or '{"type": "auto"}'),
        "attributes": orjson.loads(row.attributes_json or "{}"),
        "chunk_count": row.chunk_count,
        "stalled": stalled,
    }


def store_id_of(request: web.Request) -> str:
    return request.match_info["id"][:100]


async def _chunkingjson_response(request: web.Request, header: str, body: dict[str, Any]) -> str:
    """The body's chunking_strategy checked against the store's model; "" for the store's default."""
    if body.get("chunking_strategy") is None:
        return ""
    return _chunking_with(await _store_model(request, header), body["chunking_strategy"])


async def _store_model(request: web.Request, header: str) -> CatalogModel:
    """The store's embedding model (what a chunking strategy is checked against)."""
    edge = request.app[EDGE]
    found = await edge.core.as_caller(
        edge.core.vector_stores.GetVectorStore,
        pb.GetVectorStoreRequest(id=store_id_of(request), customer_ref=fc_customer(request)),
        header,
    )
    return await embedding_model_of(edge, bearer(request), found.store.embedding_model)


def _chunking_with(model: CatalogModel, strategy: object) -> str:
    return "" if strategy is None else orjson.dumps(wire.chunking_of(strategy, model)).decode()


async def attach_file(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    header = authorization(request)
    body = parse_object(await request.read())
    wire.refuse_unknown(body, wire.ATTACH_FIELDS)
    file_id = wire.file_id_of(body.get("file_id"))
    attributes = wire.attributes_of(body.get("attributes"))
    chunking = await _chunkingjson_response(request, header, body)
    attached = await edge.core.as_caller(
        edge.core.vector_stores.AttachFile,
        pb.AttachFileRequest(
            store_id=store_id_of(request),
            customer_ref=fc_customer(request),
            file_id=file_id,
            attributes_json=orjson.dumps(attributes).decode(),
            chunking_json=chunking,
        ),
        header,
    )
    return json_response(render_file(attached.file))


async def list_files(request: web.Request, batch_id: str = "") -> web.Response:
    edge = request.app[EDGE]
    query = request.query
    listed = await edge.core.as_caller(
        edge.core.vector_stores.ListStoreFiles,
        pb.ListStoreFilesRequest(
            store_id=store_id_of(request),
            customer_ref=fc_customer(request),
            limit=wire.limit_of(query.get("limit", "")),
            order=query.get("order", "")[:10],
            after=query.get("after", "")[:100],
            before=query.get("before", "")[:100],
            status=query.get("filter", "")[:20],
            batch_id=batch_id,
        ),
        authorization(request),
    )
    stall_s = edge.settings.rag_ingest_stall_s
    body = openai_list([render_file(f, stall_s) for f in listed.files], listed.has_more)
    return web.Response(body=body, content_type="application/json")


async def get_file(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    found = await edge.core.as_caller(
        edge.core.vector_stores.GetStoreFile,
        _file_request(request),
        authorization(request),
    )
    return json_response(render_file(found.file, edge.settings.rag_ingest_stall_s))


UPDATE_FIELDS = frozenset({"attributes"})


async def update_file(request: web.Request) -> web.Response:
    """POST /v1/vector_stores/{id}/files/{file_id} {attributes}: OpenAI's attribute update. The
    core's row changes, then the file's points in the index (and in a migration's being built), so
    a search's filters read the new attributes once this answers; an ingest still running sets the
    row's attributes on what it wrote when it ends (workers/rag_ingest/activities.py)."""
    edge = request.app[EDGE]
    body = parse_object(await request.read())
    wire.refuse_unknown(body, UPDATE_FIELDS)
    if "attributes" not in body:
        raise RingsideError("invalid_request", "attributes is required.", "attributes")
    attributes = orjson.dumps(wire.attributes_of(body["attributes"])).decode()
    file_request = _file_request(request)
    file_request.attributes_json = attributes
    updated = await edge.core.as_caller(edge.core.vector_stores.UpdateStoreFile, file_request, authorization(request))
    row = updated.file
    if edge.rag is not None:
        for generation in (row.generation, row.migrating_generation) if row.migrating_generation else (row.generation,):
            try:
                await edge.rag.set_attributes(
                    row.store_id, generation, row.file_id, row.attributes_json, row.attributes_version
                )
            except RingsideError as error:
                if error.code != "not_found":  # no index yet: nothing ingested to update
                    raise
    return json_response(render_file(row, edge.settings.rag_ingest_stall_s))


async def detach_file(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    detached = await edge.core.as_caller(
        edge.core.vector_stores.DetachFile, _file_request(request), authorization(request)
    )
    row = detached.file
    await _remove_points(edge, row, f"detached from {row.store_id}")  # an ingest still running drops its own
    return json_response({"id": row.file_id, "object": "vector_store.file.deleted", "deleted": True})


async def _remove_points(edge: Edge, row: pb.StoreFile, why: str) -> None:
    """The file's points go: from the live index, and from a migration's being built (a failure is
    logged: the file has left the store already)."""
    if edge.rag is None:
        return
    try:
        await edge.rag.delete_file(row.store_id, row.generation, row.file_id)
        if row.migrating_generation:
            await edge.rag.delete_file(row.store_id, row.migrating_generation, row.file_id)
    except RingsideError as error:
        log.warning("file %s %s; its points were not removed: %s", row.file_id, why, error.code)


async def cancel_file(request: web.Request) -> web.Response:
    """POST /v1/vector_stores/{id}/files/{file_id}/cancel: a stuck (or unwanted) ingest stops."""
    edge = request.app[EDGE]
    cancelled = await edge.core.as_caller(
        edge.core.vector_stores.CancelStoreFile, _file_request(request), authorization(request)
    )
    await _remove_points(edge, cancelled.file, "cancelled")
    return json_response(render_file(cancelled.file))


async def retry_file(request: web.Request) -> web.Response:
    """POST /v1/vector_stores/{id}/files/{file_id}/retry: a failed, cancelled or stalled ingest again."""
    edge = request.app[EDGE]
    retried = await edge.core.as_caller(
        edge.core.vector_stores.RetryStoreFile, _file_request(request), authorization(request)
    )
    return json_response(render_file(retried.file))


def _file_request(request: web.Request) -> pb.StoreFileRequest:
    return pb.StoreFileRequest(
        store_id=store_id_of(request), customer_ref=fc_customer(request), file_id=request.match_info["file_id"][:100]
    )


BATCH_FIELDS = frozenset({"file_ids", "files", "attributes", "chunking_strategy"})
MAX_BATCH = wire.MAX_FILE_IDS


def render_batch(store_id: str, batch: pb.FileBatchResponse) -> dict[str, Any]:
    """OpenAI's `vector_store.files_batch`: its status follows its files."""
    counts = {status: 0 for status in ("in_progress", "completed", "failed", "cancelled")}
    for row in batch.files:
        counts[row.status] += 1
    if counts["in_progress"]:
        status = "in_progress"
    elif batch.cancelled:
        status = "cancelled"
    elif batch.files and counts["failed"] == len(batch.files):
        status = "failed"
    else:
        status = "completed"
    return {
        "id": batch.batch_id,
        "object": "vector_store.files_batch",
        "created_at": batch.created,
        "vector_store_id": store_id,
        "status": status,
        "file_counts": {**counts, "total": len(batch.files)},
    }


async def create_batch(request: web.Request) -> web.Response:
    """POST /v1/vector_stores/{id}/file_batches with `file_ids` (one attributes and chunking for all)
    or OpenAI's newer `files: [{file_id, attributes?, chunking_strategy?}]` (each its own; the
    top-level attributes and chunking_strategy are then ignored, as OpenAI does)."""
    edge = request.app[EDGE]
    header = authorization(request)
    body = parse_object(await request.read())
    wire.refuse_unknown(body, BATCH_FIELDS)
    ids, entries = body.get("file_ids"), body.get("files")
    if (ids is None) == (entries is None):
        raise RingsideError("invalid_request", "Give either file_ids or files (not both).", "file_ids")
    batch = pb.AttachFileBatchRequest(store_id=store_id_of(request), customer_ref=fc_customer(request))
    if entries is not None:
        checked = _batch_entries(entries)  # before any id is looked up
        model = await _store_model(request, header) if any(e.get("chunking_strategy") for e in checked) else None
        batch.files.extend(
            pb.BatchFile(
                file_id=entry["file_id"],
                attributes_json=orjson.dumps(wire.attributes_of(entry.get("attributes"))).decode(),
                chunking_json=_chunking_with(model, entry.get("chunking_strategy")) if model else "",
            )
            for entry in checked
        )
    else:
        if not isinstance(ids, list) or not 1 <= len(ids) <= MAX_BATCH:  # before any id is looked up
            raise RingsideError("invalid_request", f"file_ids must be an array of 1..{MAX_BATCH} file ids.", "file_ids")
        batch.file_ids.extend(wire.file_id_of(file_id, "file_ids") for file_id in ids)
        batch.attributes_json = orjson.dumps(wire.attributes_of(body.get("attributes"))).decode()
        batch.chunking_json = await _chunkingjson_response(request, header, body)
    created = await edge.core.as_caller(edge.core.vector_stores.AttachFileBatch, batch, header)
    return json_response(render_batch(store_id_of(request), created))


def _batch_entries(entries: object) -> list[dict[str, Any]]:
    """`files`: 1..500 objects of OpenAI's CreateVectorStoreFileRequest shape."""
    if not isinstance(entries, list) or not 1 <= len(entries) <= MAX_BATCH:
        raise RingsideError(
            "invalid_request", f"files must be an array of 1..{MAX_BATCH} {{file_id, attributes?, …}}.", "files"
        )
    for entry in entries:
        if not isinstance(entry, dict) or set(entry) - wire.ATTACH_FIELDS:
            raise RingsideError(
                "invalid_request",
                "each of files is {file_id, attributes?, chunking_strategy?}.",
                "files",
            )
        wire.file_id_of(entry.get("file_id"), "files")
        wire.attributes_of(entry.get("attributes"))
    return entries


def _batch_request(request: web.Request) -> pb.FileBatchRequest:
    return pb.FileBatchRequest(
        store_id=store_id_of(request), customer_ref=fc_customer(request), batch_id=request.match_info["batch_id"][:100]
    )


async def get_batch(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    found = await edge.core.as_caller(
        edge.core.vector_stores.GetFileBatch, _batch_request(request), authorization(request)
    )
    return json_response(render_batch(store_id_of(request), found))


async def cancel_batch(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    cancelled = await edge.core.as_caller(
        edge.core.vector_stores.CancelFileBatch, _batch_request(request), authorization(request)
    )
    for row in cancelled.files:  # what a cancelled ingest wrote already goes
        if row.status == "cancelled" and edge.rag is not None:
            try:
                await edge.rag.delete_file(row.store_id, cancelled.generation, row.file_id)
            except RingsideError as error:
                log.warning("file %s cancelled; its points were not removed: %s", row.file_id, error.code)
    return json_response(render_batch(store_id_of(request), cancelled))


async def list_batch_files(request: web.Request) -> web.Response:
    return await list_files(request, batch_id=request.match_info["batch_id"][:100])
