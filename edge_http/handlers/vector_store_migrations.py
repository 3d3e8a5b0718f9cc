"""Re-embed migrations of a vector store (issue 17, API.md "Managed RAG"): `POST
/v1/vector_stores/{id}/migrate {embedding_model}` → a `vector_store.migration` (`vsmig_…`), `GET
…/migrations` (OpenAI-list shaped), `GET …/migrations/{mid}`, `POST …/migrations/{mid}/rollback`
and `…/cancel`. The model is resolved as at create (edge_http/rag/models.py); the rag role's
workflow re-embeds from the cached parses while searches keep answering from the live index."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from edge_http.context import EDGE
from edge_http.handlers.common import authorization, bearer, fc_customer, json_response, openai_list
from edge_http.openai.jsonio import parse_object
from edge_http.rag import stores as wire
from edge_http.rag.models import embedding_model_of
from ringside.core.v1 import vector_stores_pb2 as pb

MIGRATE_FIELDS = frozenset({"embedding_model"})


def render(m: pb.Migration) -> dict[str, Any]:
    """The `vector_store.migration` object."""
    error = {"code": m.last_error_code, "message": m.last_error_message} if m.last_error_code else None
    return {
        "id": m.id,
        "object": "vector_store.migration",
        "vector_store_id": m.store_id,
        "status": m.status,
        "from_model": m.from_model,
        "to_model": m.to_model,
        "to_model_requested": m.to_model_requested,
        "created_at": m.created,
        "completed_at": m.completed_at or None,
        "rollback_until": m.rollback_until or None,
        "rollback_available": m.status == "completed" and not m.retired,
        "file_counts": {"total": m.files_total, "completed": m.files_done},
        "chunks_embedded": m.chunks_done,
        "usage": {"embedding_tokens": m.embedding_tokens},
        "last_error": error,
    }


def _ids(request: web.Request) -> pb.MigrationRequest:
    return pb.MigrationRequest(
        store_id=request.match_info["id"][:100],
        customer_ref=fc_customer(request),
        migration_id=request.match_info["migration_id"][:100],
    )


async def migrate(request: web.Request) -> web.Response:
    """POST /v1/vector_stores/{id}/migrate: 409 `migration_in_progress` while one runs."""
    edge = request.app[EDGE]
    header = authorization(request)
    body = parse_object(await request.read())
    wire.refuse_unknown(body, MIGRATE_FIELDS)
    requested = body.get("embedding_model")
    store_id = request.match_info["id"][:100]
    found = await edge.core.as_caller(
        edge.core.vector_stores.GetVectorStore,
        pb.GetVectorStoreRequest(id=store_id, customer_ref=fc_customer(request)),
        header,
    )  # a store the caller cannot see is 404 before the model is looked at
    model = await embedding_model_of(edge, bearer(request), requested, found.store.customer_id)
    started = await edge.core.as_caller(
        edge.core.vector_stores.StartMigration,
        pb.StartMigrationRequest(
            store_id=store_id,
            customer_ref=fc_customer(request),
            embedding_model=model.ref,
            embedding_model_requested=str(requested)[:300],
        ),
        header,
    )
    return json_response(render(started.migration))


async def list_migrations(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    query = request.query
    listed = await edge.core.as_caller(
        edge.core.vector_stores.ListMigrations,
        pb.ListMigrationsRequest(
            store_id=request.match_info["id"][:100],
            customer_ref=fc_customer(request),
            limit=wire.limit_of(query.get("limit", "")),
            order=query.get("order", "")[:10],
            after=query.get("after", "")[:100],
        ),
        authorization(request),
    )
    return web.Response(
        body=openai_list([render(m) for m in listed.migrations], listed.has_more), content_type="application/json"
    )


async def get_migration(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    found = await edge.core.as_caller(edge.core.vector_stores.GetMigration, _ids(request), authorization(request))
    return json_response(render(found.migration))


async def cancel_migration(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    done = await edge.core.as_caller(edge.core.vector_stores.CancelMigration, _ids(request), authorization(request))
    return json_response(render(done.migration))


async def rollback_migration(request: web.Request) -> web.Response:
    """The store answers from its pre-migration index again at once (one core write)."""
    edge = request.app[EDGE]
    done = await edge.core.as_caller(edge.core.vector_stores.RollbackMigration, _ids(request), authorization(request))
    return json_response(render(done.migration))
