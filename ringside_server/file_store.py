"""The file store: uploaded files' bytes (issue 16), under DATA_DIR/files by default or in an
S3-compatible bucket (`RINGSIDE_FILES_URL=s3://bucket/prefix`, ringside_server/file_store_s3.py) when
several nodes must share them (API.md "Managed RAG → Storage"). The edge writes a file as its upload
streams in — a reader never sees half a file (a temporary name renamed once complete here; an S3
object exists only once its upload completes) — the rag role and the batch worker read it, and the
rag role's sweep removes what the core no longer knows. Blocking I/O runs on a thread, never on the
event loop: the synchronous methods (`read_bytes`, `stored`, `remove`) are meant for a thread."""

from __future__ import annotations

import abc
import asyncio
import contextlib
import hashlib
import pathlib
import re
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

from ringside_server.errors import RingsideError
from ringside_server.ids import new_sortable_id
from ringside_server.settings import Settings

_FILE_ID = re.compile(r"^file-[0-9A-Za-z]{8,60}$")
PARTIAL = ".partial"
READ_CHUNK_BYTES = 256 * 1024


def new_file_id() -> str:
    """`file-…` (OpenAI's form), sortable by creation time like Ringside's other ids."""
    return "file-" + new_sortable_id("f").removeprefix("f_")


def checked_id(file_id: str) -> str:
    """A file id of the form we issue, or 404: an id never becomes a path or key of its own choosing."""
    if not _FILE_ID.match(file_id):
        raise RingsideError("not_found", f"No such file: '{file_id[:200]}'.", "file_id")
    return file_id


def gone(file_id: str) -> RingsideError:
    return RingsideError("not_found", f"No such file: '{file_id[:200]}'.", "file_id")


@dataclass(frozen=True, slots=True)
class Written:
    size_bytes: int
    sha256: str


class Measured:
    """An upload's chunks as they pass: counted against `max_bytes` (413 past it) and hashed."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self.digest = hashlib.sha256()

    def take(self, chunk: bytes) -> bytes:
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise RingsideError("payload_too_large", f"A file may hold at most {self.max_bytes} bytes.", "file")
        self.digest.update(chunk)
        return chunk

    def written(self) -> Written:
        return Written(self.size, self.digest.hexdigest())


@dataclass(frozen=True, slots=True)
class Stored:
    """What a sweep found: the stored files older than its grace, and the stale partial uploads it removed."""

    file_ids: list[str]
    partials_removed: int


class FileStore(abc.ABC):
    """Files by id. Every backend keeps the same promises; tests/ringside_server covers both."""

    @abc.abstractmethod
    async def write(self, file_id: str, chunks: AsyncIterator[bytes], max_bytes: int) -> Written:
        """Streams `chunks` to the file; 413 `payload_too_large` past `max_bytes` (nothing is kept)."""

    @abc.abstractmethod
    def read_bytes(self, file_id: str) -> bytes:
        """The whole file (blocking); FileNotFoundError when there is none."""

    @abc.abstractmethod
    def size(self, file_id: str) -> int | None:
        """The stored size in bytes (blocking), or None when there is no such file."""

    @abc.abstractmethod
    def read_chunks(self, file_id: str) -> Iterator[bytes]:
        """The file's bytes a chunk at a time (blocking per chunk); FileNotFoundError when there is none."""

    @abc.abstractmethod
    def delete_now(self, file_id: str) -> None:
        """Removes the file (blocking); nothing when there is none."""

    @abc.abstractmethod
    def stored(self, now: float, grace_s: float, partial_ttl_s: float) -> Stored:
        """Every stored file older than `grace_s` (blocking), after removing the partial uploads
        untouched for `partial_ttl_s`."""

    def local_path(self, file_id: str) -> pathlib.Path | None:
        """The file on this machine's disk, when the backend keeps it there (the edge sends it with
        sendfile); None otherwise."""
        return None

    @contextlib.asynccontextmanager
    async def local_copy(self, file_id: str) -> AsyncIterator[pathlib.Path]:
        """The file as a path on this machine for the span of the `async with` (a batch's input is
        read line by line from it): the stored file itself here, else a temporary copy removed after.
        FileNotFoundError (here or at the path's first read) when there is none."""
        path = self.local_path(file_id)
        if path is not None:
            yield path
            return
        with tempfile.TemporaryDirectory(prefix="ringside-file-") as scratch:
            copy = pathlib.Path(scratch) / checked_id(file_id)
            await asyncio.to_thread(self._download, file_id, copy)
            yield copy

    def _download(self, file_id: str, target: pathlib.Path) -> None:
        with target.open("wb") as handle:
            for chunk in self.read_chunks(file_id):
                handle.write(chunk)

    async def delete(self, file_id: str) -> None:
        await asyncio.to_thread(self.delete_now, checked_id(file_id))

    def remove(self, file_ids: list[str]) -> int:
        """Removes these files (blocking); → how many were removed."""
        for file_id in file_ids:
            self.delete_now(file_id)
        return len(file_ids)

    async def chunks(self, file_id: str) -> AsyncIterator[bytes]:
        """The file's bytes streamed, each chunk read on a thread."""
        reader = await asyncio.to_thread(self.read_chunks, checked_id(file_id))
        try:
            while chunk := await asyncio.to_thread(next, reader, b""):
                yield chunk
        finally:
            close = getattr(reader, "close", None)
            if close is not None:
                await asyncio.to_thread(close)


class LocalFileStore(FileStore):
    """Files under one root: `<root>/<2 chars of the id's random part>/<id>`."""

    def __init__(self, root: pathlib.Path) -> None:
        self.root = root

    def path(self, file_id: str) -> pathlib.Path:
        return self.root / checked_id(file_id)[-2:] / file_id

    def local_path(self, file_id: str) -> pathlib.Path | None:
        return self.path(file_id)

    async def write(self, file_id: str, chunks: AsyncIterator[bytes], max_bytes: int) -> Written:
        final = self.path(file_id)
        partial = final.with_name(final.name + PARTIAL)
        await asyncio.to_thread(final.parent.mkdir, parents=True, exist_ok=True, mode=0o700)
        measured = Measured(max_bytes)
        handle = await asyncio.to_thread(partial.open, "wb")
        try:
            async for chunk in chunks:
                await asyncio.to_thread(handle.write, measured.take(chunk))
            await asyncio.to_thread(handle.flush)
        except BaseException:
            handle.close()
            with contextlib.suppress(OSError):
                partial.unlink()
            raise
        handle.close()
        await asyncio.to_thread(partial.rename, final)
        return measured.written()

    def read_bytes(self, file_id: str) -> bytes:
        return self.path(file_id).read_bytes()

    def size(self, file_id: str) -> int | None:
        try:
            return self.path(file_id).stat().st_size
        except FileNotFoundError:
            return None

    def read_chunks(self, file_id: str) -> Iterator[bytes]:
        handle = self.path(file_id).open("rb")  # FileNotFoundError here, before the first chunk

        def chunks() -> Iterator[bytes]:
            with handle:
                while chunk := handle.read(READ_CHUNK_BYTES):
                    yield chunk

        return chunks()

    def delete_now(self, file_id: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path(file_id).unlink()

    def stored(self, now: float, grace_s: float, partial_ttl_s: float) -> Stored:
        found: list[str] = []
        removed = 0
        for path in two_levels(self.root):
            with contextlib.suppress(FileNotFoundError):
                age = now - path.stat().st_mtime
                if path.name.endswith(PARTIAL):
                    if age > partial_ttl_s:
                        path.unlink()
                        removed += 1
                elif age >= grace_s and _FILE_ID.match(path.name):
                    found.append(path.name)
        return Stored(found, removed)

    def remove(self, file_ids: list[str]) -> int:
        removed = 0
        for file_id in file_ids:
            with contextlib.suppress(FileNotFoundError):
                self.path(file_id).unlink()
                removed += 1
        return removed


def two_levels(root: pathlib.Path) -> Iterator[pathlib.Path]:
    """`root/<xx>/<name>`: the local store's layout (the rag role's parse cache has the same)."""
    if not root.is_dir():
        return
    for shard in root.iterdir():
        if shard.is_dir():
            yield from (path for path in shard.iterdir() if path.is_file())


def open_file_store(settings: Settings) -> FileStore:
    """The store `RINGSIDE_FILES_URL` names: an `s3://bucket/prefix`, or (unset) DATA_DIR/files."""
    if settings.files_url:
        from ringside_server.file_store_s3 import S3FileStore  # boto3 only where it is used

        return S3FileStore.from_settings(settings)
    return LocalFileStore(settings.ensure_data_dir().resolve() / "files")
