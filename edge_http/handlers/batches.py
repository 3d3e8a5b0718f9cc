"""/v1/batches (OpenAI's Batch API, issue 19): create over an uploaded `batch` file — every line
validated first, so a bad file is a 400 naming its line and nothing is created — retrieve, list,
cancel. The worker runs the lines (workers/batch/), each a metered call of the creating key."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from aiohttp import web

from edge_http.context import EDGE
from edge_http.handlers.common import authorization, fc_customer
from edge_http.handlers.files import store_of
from edge_http.openai.jsonio import dumps, parse_object
from edge_http.rag.stores import metadata_of
from ringside.core.v1 import batches_pb2 as pb
from ringside.core.v1 import files_pb2
from ringside_server.batches.lines import PARAM, check_terms, count_lines
from ringside_server.errors import RingsideError

MAX_ID = 100
MAX_LIST = 100


def _at(seconds: int) -> int | None:
    return seconds or None


def render(batch: pb.Batch) -> dict[str, Any]:
    """OpenAI's `batch` object, plus Ringside's `customer_id`. A step not reached, a file not written
    and an absent customer are left out: OpenAI's published schema types them as never null."""
    counts = batch.request_counts
    errors = orjson.loads(batch.errors_json) if batch.errors_json else None
    rendered = {
        "id": batch.id,
        "object": "batch",
        "endpoint": batch.endpoint,
        "errors": {"object": "list", "data": errors} if errors else None,
        "input_file_id": batch.input_file_id,
        "completion_window": batch.completion_window,
        "status": batch.status,
        "output_file_id": batch.output_file_id or None,
        "error_file_id": batch.error_file_id or None,
        "created_at": batch.created,
        "in_progress_at": _at(batch.in_progress_at),
        "expires_at": _at(batch.expires_at),
        "finalizing_at": _at(batch.finalizing_at),
        "completed_at": _at(batch.completed_at),
        "failed_at": _at(batch.failed_at),
        "expired_at": _at(batch.expired_at),
        "cancelling_at": _at(batch.cancelling_at),
        "cancelled_at": _at(batch.cancelled_at),
        "request_counts": {"total": counts.total, "completed": counts.completed, "failed": counts.failed},
        "metadata": orjson.loads(batch.metadata_json or "{}") or None,
        "customer_id": batch.customer_id or None,
    }
    return {name: value for name, value in rendered.items() if value is not None}


def _string(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise RingsideError("invalid_request", f"Missing required parameter: '{name}'.", name)
    return value[:MAX_ID]


async def create_batch(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    header = authorization(request)
    body = parse_object(await request.read())
    input_file_id, endpoint = _string(body, "input_file_id"), _string(body, "endpoint")
    window = _string(body, "completion_window")
    check_terms(endpoint, window)
    metadata = metadata_of(body.get("metadata"))
    found = await edge.core.as_caller(
        edge.core.files.GetFile,
        files_pb2.GetFileRequest(id=input_file_id, customer_ref=fc_customer(request)),
        header,
    )
    if found.file.purpose != "batch":
        raise RingsideError("invalid_request", "The input file's purpose must be 'batch'.", PARAM)
    try:
        async with store_of(edge).local_copy(found.file.id) as path:
            total = await asyncio.to_thread(count_lines, path, endpoint, edge.settings.body_max_model_bytes)
    except FileNotFoundError:  # deleted while this request ran
        raise RingsideError("not_found", f"No such file: '{input_file_id}'.", PARAM) from None
    created = await edge.core.as_caller(
        edge.core.batches.CreateBatch,
        pb.CreateBatchRequest(
            input_file_id=input_file_id,
            endpoint=endpoint,
            completion_window=window,
            metadata_json=orjson.dumps(metadata).decode(),
            customer_ref=fc_customer(request),
            total_lines=total,
        ),
        header,
    )
    return web.Response(body=dumps(render(created.batch)), content_type="application/json")


async def get_batch(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    found = await edge.core.as_caller(
        edge.core.batches.GetBatch,
        pb.GetBatchRequest(id=request.match_info["id"][:MAX_ID], customer_ref=fc_customer(request)),
        authorization(request),
    )
    return web.Response(body=dumps(render(found.batch)), content_type="application/json")


async def cancel_batch(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    cancelled = await edge.core.as_caller(
        edge.core.batches.CancelBatch,
        pb.GetBatchRequest(id=request.match_info["id"][:MAX_ID], customer_ref=fc_customer(request)),
        authorization(request),
    )
    return web.Response(body=dumps(render(cancelled.batch)), content_type="application/json")


def _limit(request: web.Request) -> int:
    raw = request.query.get("limit", "")
    if not raw:
        return 0
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 4 or not 1 <= int(raw) <= MAX_LIST:
        raise RingsideError("invalid_request", f"limit must be an integer between 1 and {MAX_LIST}.", "limit")
    return int(raw)


async def list_batches(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    listed = await edge.core.as_caller(
        edge.core.batches.ListBatches,
        pb.ListBatchesRequest(
            customer_ref=fc_customer(request), limit=_limit(request), after=request.query.get("after", "")[:MAX_ID]
        ),
        authorization(request),
    )
    data = [render(b) for b in listed.batches]
    page: dict[str, Any] = {"object": "list", "data": data, "has_more": listed.has_more}
    if data:  # OpenAI's schema types the cursors as strings, never null
        page.update(first_id=data[0]["id"], last_id=data[-1]["id"])
    return web.Response(body=dumps(page), content_type="application/json")
