"""Reading a multipart model request, bounded: its total bytes (the route's bound, 413 above it),
its number of parts, and each text field's length."""

from __future__ import annotations

from typing import Any

from aiohttp import BodyPartReader, web

from ringside_server.errors import RingsideError
from ringside_server.openai.multipart import FilePart

MAX_PARTS = 64
MAX_FIELD_BYTES = 256 * 1024  # a prompt is at most 32,000 characters
CHUNK_BYTES = 256 * 1024


def _too_large(max_bytes: int) -> RingsideError:
    return RingsideError("payload_too_large", f"The request body is larger than {max_bytes // (1024 * 1024)} MiB.")


async def read_form(request: web.Request, max_bytes: int) -> dict[str, Any]:
    """Text fields as strings, files as FileParts (a field sent several times, or as `name[]`, as a
    list). 400 when the body is not multipart/form-data."""
    if request.content_length is not None and request.content_length > max_bytes:
        raise _too_large(max_bytes)
    if not request.content_type.startswith("multipart/form-data"):
        raise RingsideError("invalid_request", "This route takes a multipart/form-data body.")
    try:
        reader = await request.multipart()
    except (ValueError, AssertionError):
        raise RingsideError("invalid_request", "The multipart body could not be read.") from None
    form: dict[str, Any] = {}
    total = parts = 0
    while (part := await reader.next()) is not None:
        parts += 1
        if parts > MAX_PARTS or not isinstance(part, BodyPartReader) or not part.name:
            raise RingsideError("invalid_request", f"The form holds more than {MAX_PARTS} parts, or a nameless one.")
        limit = max_bytes - total if part.filename else min(MAX_FIELD_BYTES, max_bytes - total)
        data = bytearray()
        while chunk := await part.read_chunk(CHUNK_BYTES):
            data += chunk
            if len(data) > limit:
                raise (
                    _too_large(max_bytes)
                    if part.filename
                    else RingsideError("invalid_request", f"The field '{part.name[:40]}' is too long.", part.name[:40])
                )
        total += len(data)
        name = part.name.removesuffix("[]")
        if part.filename is None:
            try:
                text = bytes(data).decode()
            except UnicodeDecodeError:
                raise RingsideError("invalid_request", f"The field '{name[:40]}' is not UTF-8.", name[:40]) from None
            form[name] = [*form.get(name, []), text] if part.name.endswith("[]") else text
            continue
        upload = FilePart(
            part.filename[:255], part.headers.get("Content-Type", "application/octet-stream"), bytes(data)
        )
        if name in form or part.name.endswith("[]"):
            previous = form.get(name, [])
            form[name] = [*(previous if isinstance(previous, list) else [previous]), upload]
        else:
            form[name] = upload
    return form
