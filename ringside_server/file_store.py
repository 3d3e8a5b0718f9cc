"""The file store: uploaded files' bytes under DATA_DIR/files (issue 16). The edge writes a file as
its upload streams in — to a temporary name, renamed once complete, so a reader never sees half a
file — and the rag role reads it. Blocking disk I/O runs on a thread, never on the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import pathlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

from ringside_server.errors import RingsideError
from ringside_server.ids import new_sortable_id

_FILE_ID = re.compile(r"^file-[0-9A-Za-z]{8,60}$")


def new_file_id() -> str:
    """`file-…` (OpenAI's form), sortable by creation time like Ringside's other ids."""
    return "file-" + new_sortable_id("f").removeprefix("f_")


@dataclass(frozen=True, slots=True)
class Written:
    size_bytes: int
    sha256: str


class FileStore:
    """Files by id under one root: `<root>/<2 chars of the id's random part>/<id>`."""

    def __init__(self, root: pathlib.Path) -> None:
        self.root = root

    def path(self, file_id: str) -> pathlib.Path:
        if not _FILE_ID.match(file_id):
            raise RingsideError("not_found", f"No such file: '{file_id[:200]}'.", "file_id")
        return self.root / file_id[-2:] / file_id

    async def write(self, file_id: str, chunks: AsyncIterator[bytes], max_bytes: int) -> Written:
        """Streams `chunks` to the file; 413 `payload_too_large` past `max_bytes` (nothing is kept)."""
        final = self.path(file_id)
        partial = final.with_name(final.name + ".partial")
        await asyncio.to_thread(final.parent.mkdir, parents=True, exist_ok=True, mode=0o700)
        digest = hashlib.sha256()
        size = 0
        handle = await asyncio.to_thread(partial.open, "wb")
        try:
            async for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise RingsideError("payload_too_large", f"A file may hold at most {max_bytes} bytes.", "file")
                digest.update(chunk)
                await asyncio.to_thread(handle.write, chunk)
            await asyncio.to_thread(handle.flush)
        except BaseException:
            handle.close()
            with contextlib.suppress(OSError):
                partial.unlink()
            raise
        handle.close()
        await asyncio.to_thread(partial.rename, final)
        return Written(size, digest.hexdigest())

    async def delete(self, file_id: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(self.path(file_id).unlink)
