"""/v1/vector_stores (OpenAI's Vector Stores API, issue 16): create with `embedding_model` (pinned
at create as an fc: ref), retrieve, list, modify, delete. A store created with FC-Customer or a
Client Token is that customer's; a customer also retrieves the account's `shared` stores; anything
else is 404. Wire checks live in edge_http/rag/stores.py, the model check in edge_http/rag/models.py."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from aiohttp import web

from edge_http.context import EDGE
from edge_http.handlers.common import authorization, bearer, fc_customer, json_response, openai_list
from edge_http.openai.jsonio import parse_object
from edge_http.rag import stores as wire
from edge_http.rag.models import embedding_model_of
from ringside.core.v1 import vector_stores_pb2 as pb
from ringside_server.errors import RingsideError

log = logging.getLogger("ringside.edge")


def render(store: pb.VectorStore) -> dict[str, Any]:
    """OpenAI's `vector_store`, plus Ringside's embedding_model(_requested), customer_id, shared."""
    days = store.expires_after_days
    return {
        "id": store.id,
        "object": "vector_store",
        "created_at": store.created,
        "name": store.name,
        "usage_bytes": store.usage_bytes,
        "file_counts": {
            "in_progress": store.files_in_progress,
            "completed": store.files_completed,
            "failed": store.files_failed,
            "cancelled": store.files_cancelled,
            "total": store.files_in_progress + store.files_completed + store.files_failed + store.files_cancelled,
        },
        "status": "in_progress" if store.files_in_progress else "completed",
        "expires_after": {"anchor": "last_active_at", "days": days} if days else None,
        "expires_at": store.last_active_at + days * 86_400 if days else None,
        "last_active_at": store.last_active_at,
        "metadata": orjson.loads(store.metadata_json or "{}"),
        "embedding_model": store.embedding_model,
        "embedding_model_requested": store.embedding_model_requested,
        "chunking_strategy": orjson.loads(store.chunking_json),
        "customer_id": store.customer_id or None,
        "shared": store.shared,
    }


async def create_vector_store(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    header = authorization(request)
    body = parse_object(await request.read())
    wire.refuse_unknown(body, wire.CREATE_FIELDS)
    file_ids = _file_ids_of(body.get("file_ids"))
    requested = body.get("embedding_model") or edge.settings.rag_embedding_model
    model = await embedding_model_of(edge, bearer(request), requested, fc_customer(request))
    created = await edge.core.as_caller(
        edge.core.vector_stores.CreateVectorStore,
        pb.CreateVectorStoreRequest(
            customer_ref=fc_customer(request),
            name=wire.name_of(body),
            embedding_model=model.ref,
            embedding_model_requested=str(requested),
            chunking_json=orjson.dumps(wire.chunking_of(body.get("chunking_strategy"), model)).decode(),
            metadata_json=orjson.dumps(wire.metadata_of(body.get("metadata"))).decode(),
            expires_after_days=wire.expiry_of(body.get("expires_after")),
            shared=wire.flag(body, "shared"),
        ),
        header,
    )
    if not file_ids:
        return json_response(render(created.store))
    return json_response(render(await _attached_at_create(request, header, created.store, file_ids)))


def _file_ids_of(value: object) -> list[str]:
    """OpenAI's `file_ids` at create (≤ 500, checked before any id is looked up); [] when absent."""
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > wire.MAX_FILE_IDS:
        message = f"file_ids must be an array of at most {wire.MAX_FILE_IDS} file ids."
        raise RingsideError("invalid_request", message, "file_ids")
    return [wire.file_id_of(file_id, "file_ids") for file_id in value]


async def _attached_at_create(
    request: web.Request, header: str, store: pb.VectorStore, file_ids: list[str]
) -> pb.VectorStore:
    """Attaches `file_ids` to the new store as one batch (the store's chunking): all or none, as a
    batch is. A refused batch (a file not found, another owner's) deletes the store again, so the
    create answers that refusal and leaves nothing behind. → the store as it is now."""
    edge = request.app[EDGE]
    attach = pb.AttachFileBatchRequest(
        store_id=store.id, customer_ref=fc_customer(request), file_ids=file_ids, attributes_json="{}"
    )
    try:
        await edge.core.as_caller(edge.core.vector_stores.AttachFileBatch, attach, header)
    except RingsideError:
        delete = pb.DeleteVectorStoreRequest(id=store.id, customer_ref=fc_customer(request))
        await edge.core.as_caller(edge.core.vector_stores.DeleteVectorStore, delete, header)
        raise
    get = pb.GetVectorStoreRequest(id=store.id, customer_ref=fc_customer(request))
    return (await edge.core.as_caller(edge.core.vector_stores.GetVectorStore, get, header)).store


async def list_vector_stores(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    query = request.query
    listed = await edge.core.as_caller(
        edge.core.vector_stores.ListVectorStores,
        pb.ListVectorStoresRequest(
            customer_ref=fc_customer(request),
            limit=wire.limit_of(query.get("limit", "")),
            order=query.get("order", "")[:10],
            after=query.get("after", "")[:100],
            before=query.get("before", "")[:100],
            customer_id=query.get("customer_id", "")[:300],
        ),
        authorization(request),
    )
    body = openai_list([render(s) for s in listed.stores], listed.has_more)
    return web.Response(body=body, content_type="application/json")


async def get_vector_store(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    found = await edge.core.as_caller(
        edge.core.vector_stores.GetVectorStore,
        pb.GetVectorStoreRequest(id=request.match_info["id"][:100], customer_ref=fc_customer(request)),
        authorization(request),
    )
    return json_response(render(found.store))


async def update_vector_store(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    header = authorization(request)
    body = parse_object(await request.read())
    wire.refuse_unknown(body, wire.UPDATE_FIELDS)
    change = pb.UpdateVectorStoreRequest(id=request.match_info["id"][:100], customer_ref=fc_customer(request))
    if "name" in body:
        change.name = wire.name_of(body)
    if "metadata" in body:
        change.metadata_json = orjson.dumps(wire.metadata_of(body["metadata"])).decode()
    if "expires_after" in body:
        change.expires_after_days = wire.expiry_of(body["expires_after"])
    updated = await edge.core.as_caller(edge.core.vector_stores.UpdateVectorStore, change, header)
    return json_response(render(updated.store))


async def delete_vector_store(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    deleted = await edge.core.as_caller(
        edge.core.vector_stores.DeleteVectorStore,
        pb.DeleteVectorStoreRequest(id=request.match_info["id"][:100], customer_ref=fc_customer(request)),
        authorization(request),
    )
    store = deleted.store
    try:  # the store is gone for every caller already; a failed drop leaves its index behind, logged
        if edge.rag is not None:
            await edge.rag.drop_index(store.id, store.generation)
    except RingsideError as error:
        log.warning("vector store %s deleted; its index was not dropped: %s", store.id, error.code)
    return json_response({"id": store.id, "object": "vector_store.deleted", "deleted": True})
