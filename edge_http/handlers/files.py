"""/v1/files (OpenAI's Files API, issue 16): upload (multipart, streamed to the file store — never
held whole in memory — bounded by RINGSIDE_MAX_FILE_BYTES, 413 above), list, retrieve, content,
delete. A file uploaded with FC-Customer or a Client Token belongs to that customer; a request
naming a customer sees that customer's files only (anything else is 404)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import BodyPartReader, web

from edge_http.context import EDGE, Edge
from edge_http.handlers.common import authorization, bearer, fc_customer, openai_list, principal
from edge_http.openai.jsonio import dumps
from ringside.core.v1 import files_pb2
from ringside_server.errors import RingsideError
from ringside_server.file_store import FileStore, gone, new_file_id

log = logging.getLogger("ringside.edge")

CHUNK_BYTES = 256 * 1024
MAX_PARTS = 8
MAX_FIELD_BYTES = 1024  # `purpose` and any other small field
MAX_FILENAME = 512
MULTIPART_OVERHEAD_BYTES = 64 * 1024  # boundaries and part headers around the file


def render(stored: files_pb2.File) -> dict[str, Any]:
    """OpenAI's `file` object, plus Ringside's `customer_id` (null for the account's) and `sha256`."""
    return {
        "id": stored.id,
        "object": "file",
        "bytes": stored.bytes,
        "created_at": stored.created,
        "expires_at": None,
        "filename": stored.filename,
        "purpose": stored.purpose,
        "status": "processed",
        "status_details": None,
        "customer_id": stored.customer_id or None,
        "sha256": stored.sha256,
    }


def store_of(edge: Edge) -> FileStore:
    assert edge.files is not None, "the edge's app opens its file store"
    return edge.files


async def _authenticated(request: web.Request) -> str:
    """The header for the core, checked before any of the body is read (401 before 413 or 400)."""
    header = authorization(request)
    if bearer(request):
        await principal(request.app[EDGE], request)
    return header


def _bound(edge: Edge, purpose: str) -> int:
    """The upload's bound: a `batch` file's is lower (API.md "Bodies": 200 MiB)."""
    if purpose == "batch":
        return min(edge.settings.max_file_bytes, edge.settings.max_batch_file_bytes)
    return edge.settings.max_file_bytes


async def _small_field(part: BodyPartReader) -> str:
    value = await part.read_chunk(MAX_FIELD_BYTES + 1)
    if len(value) > MAX_FIELD_BYTES or await part.read_chunk(1):
        raise RingsideError("invalid_request", f"The field '{part.name}' is too long.", part.name)
    try:
        return value.decode()
    except UnicodeDecodeError:
        raise RingsideError("invalid_request", f"The field '{part.name}' is not UTF-8.", part.name) from None


async def _chunks(part: BodyPartReader) -> AsyncIterator[bytes]:
    while chunk := await part.read_chunk(CHUNK_BYTES):
        yield chunk


async def create_file(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    header = await _authenticated(request)
    max_bytes = edge.settings.max_file_bytes
    if request.content_length is not None and request.content_length > max_bytes + MULTIPART_OVERHEAD_BYTES:
        raise RingsideError("payload_too_large", f"A file may hold at most {max_bytes} bytes.", "file")
    if not request.content_type.startswith("multipart/form-data"):
        raise RingsideError("invalid_request", "Upload a file as multipart/form-data (fields file, purpose).", "file")
    store = store_of(edge)
    file_id, filename, purpose, written = new_file_id(), "", "", None
    try:
        reader = await request.multipart()
        for _ in range(MAX_PARTS + 1):
            part = await reader.next()
            if part is None:
                break
            if not isinstance(part, BodyPartReader):
                raise RingsideError("invalid_request", "Nested multipart bodies are not accepted.", "file")
            if part.name == "file" and written is None:
                filename = (part.filename or "").strip()
                if not 1 <= len(filename) <= MAX_FILENAME or "\x00" in filename:
                    message = f"file needs a name of 1..{MAX_FILENAME} characters."
                    raise RingsideError("invalid_request", message, "file")
                written = await store.write(file_id, _chunks(part), _bound(edge, purpose))
            elif part.name == "purpose":
                purpose = await _small_field(part)
            else:
                await _small_field(part)  # OpenAI's other fields (expires_after…): read, bounded, unused
        else:
            raise RingsideError("invalid_request", f"At most {MAX_PARTS} fields.", "file")
        if written is None:
            raise RingsideError("invalid_request", "Missing required parameter: 'file'.", "file")
        if not purpose:
            raise RingsideError("invalid_request", "Missing required parameter: 'purpose'.", "purpose")
        if written.size_bytes > _bound(edge, purpose):  # `purpose` came after the file
            raise RingsideError("payload_too_large", f"A file may hold at most {_bound(edge, purpose)} bytes.", "file")
        recorded = await edge.core.as_caller(
            edge.core.files.CreateFile,
            files_pb2.CreateFileRequest(
                id=file_id,
                customer_ref=fc_customer(request),
                filename=filename,
                purpose=purpose,
                bytes=written.size_bytes,
                sha256=written.sha256,
            ),
            header,
        )
    except BaseException:
        await store.delete(file_id)  # an upload refused or cut off keeps nothing
        raise
    return web.Response(body=dumps(render(recorded.file)), content_type="application/json")


def _int(request: web.Request, name: str, default: int, high: int) -> int:
    raw = request.query.get(name, "")
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 6 or not 1 <= int(raw) <= high:
        raise RingsideError("invalid_request", f"{name} must be an integer between 1 and {high}.", name)
    return int(raw)


async def list_files(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    query = request.query
    listed = await edge.core.as_caller(
        edge.core.files.ListFiles,
        files_pb2.ListFilesRequest(
            customer_ref=fc_customer(request),
            purpose=query.get("purpose", "")[:100],
            limit=_int(request, "limit", 10_000, 10_000),
            order=query.get("order", "")[:10],
            after=query.get("after", "")[:100],
            customer_id=query.get("customer_id", "")[:300],
        ),
        authorization(request),
    )
    body = openai_list([render(f) for f in listed.files], listed.has_more)
    return web.Response(body=body, content_type="application/json")


async def _get(request: web.Request) -> files_pb2.File:
    edge = request.app[EDGE]
    found = await edge.core.as_caller(
        edge.core.files.GetFile,
        files_pb2.GetFileRequest(id=request.match_info["id"][:100], customer_ref=fc_customer(request)),
        authorization(request),
    )
    return found.file


async def get_file(request: web.Request) -> web.Response:
    return web.Response(body=dumps(render(await _get(request))), content_type="application/json")


async def get_content(request: web.Request) -> web.StreamResponse:
    """The bytes as uploaded, streamed from the file store (a local file by sendfile, an S3 object
    a chunk at a time: never held whole)."""
    stored = await _get(request)
    files = store_of(request.app[EDGE])
    path = files.local_path(stored.id)
    if path is not None:
        if not path.exists():  # deleted while this request ran
            raise gone(stored.id)
        return web.FileResponse(path, headers={"Content-Type": "application/octet-stream"})
    chunks = files.chunks(stored.id)
    try:
        first = await anext(chunks, b"")  # a file deleted meanwhile is a 404, before any byte is sent
    except FileNotFoundError:
        raise gone(stored.id) from None
    response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
    response.content_length = stored.bytes
    await response.prepare(request)
    await response.write(first)
    async for chunk in chunks:
        await response.write(chunk)
    await response.write_eof()
    return response


async def delete_file(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    deleted = await edge.core.as_caller(
        edge.core.files.DeleteFile,
        files_pb2.DeleteFileRequest(id=request.match_info["id"][:100], customer_ref=fc_customer(request)),
        authorization(request),
    )
    await store_of(edge).delete(deleted.id)
    for left in deleted.detached_from:  # out of those stores' listings already; the points go now
        try:
            if edge.rag is not None:
                await edge.rag.delete_file(left.store_id, left.generation, deleted.id)
        except RingsideError as error:  # as for a detach: left behind, logged
            log.warning("file %s deleted; its points in %s were not removed: %s", deleted.id, left.store_id, error.code)
    return web.Response(
        body=dumps({"id": deleted.id, "object": "file", "deleted": True}), content_type="application/json"
    )
