"""ringside_server/file_store_s3.py against moto's S3 server on 127.0.0.1: a file streamed in (one
put, or a multipart upload past a part), read whole, streamed out and as a local copy; an upload over
its bound or cut off leaves no object and no open multipart upload; delete; the sweep's listing
(grace) and its abort of stale incomplete uploads. The local store keeps the same promises."""

from __future__ import annotations

import hashlib
import os
import pathlib
import time
from collections.abc import AsyncIterator, Iterator

import pytest

from ringside_server.errors import RingsideError
from ringside_server.file_store import FileStore, LocalFileStore, new_file_id, open_file_store
from ringside_server.file_store_s3 import MIN_PART_BYTES, S3FileStore
from ringside_server.settings import Settings
from tests.s3_server import S3Server

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    server = S3Server.start(tmp_path_factory.mktemp("moto"))
    yield server
    server.stop()


@pytest.fixture(params=["s3", "local"])
def store(request: pytest.FixtureRequest, s3: S3Server, tmp_path: pathlib.Path) -> FileStore:
    if request.param == "local":
        return LocalFileStore(tmp_path / "files")
    env = s3.env(s3.new_bucket())
    settings = Settings(**{name.removeprefix("RINGSIDE_").lower(): value for name, value in env.items()})
    opened = open_file_store(settings)
    assert isinstance(opened, S3FileStore)
    return opened


async def _chunks(data: bytes, size: int = 256 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def _collected(store: FileStore, file_id: str) -> bytes:
    return b"".join([chunk async for chunk in store.chunks(file_id)])


@pytest.mark.parametrize("size", [0, 1000, MIN_PART_BYTES + MIB])
async def test_written_read_streamed_copied_and_deleted(store: FileStore, size: int) -> None:
    data = os.urandom(size)
    file_id = new_file_id()
    written = await store.write(file_id, _chunks(data), 64 * MIB)
    assert (written.size_bytes, written.sha256) == (size, hashlib.sha256(data).hexdigest())

    assert store.read_bytes(file_id) == data
    assert store.size(file_id) == size
    assert await _collected(store, file_id) == data
    async with store.local_copy(file_id) as path:
        assert path.read_bytes() == data

    await store.delete(file_id)
    assert store.size(file_id) is None
    with pytest.raises(FileNotFoundError):
        store.read_bytes(file_id)
    with pytest.raises(FileNotFoundError):
        await _collected(store, file_id)
    await store.delete(file_id)  # again: nothing to do, no error


async def test_an_upload_over_its_bound_or_cut_off_leaves_nothing(store: FileStore, s3: S3Server) -> None:
    file_id = new_file_id()
    with pytest.raises(RingsideError) as over:
        await store.write(file_id, _chunks(b"x" * (MIN_PART_BYTES + 2 * MIB), MIB), MIN_PART_BYTES + MIB)
    assert over.value.code == "payload_too_large"

    async def cut_off() -> AsyncIterator[bytes]:
        yield b"y" * (MIN_PART_BYTES + MIB)  # a part already sent, then the client is gone
        raise ConnectionResetError

    with pytest.raises(ConnectionResetError):
        await store.write(file_id, cut_off(), 64 * MIB)
    assert store.size(file_id) is None
    assert store.stored(time.time() + 3600, 0, 3600).file_ids == []
    if isinstance(store, S3FileStore):
        assert s3.open_uploads(store.bucket) == 0  # both multipart uploads aborted, no parts kept


async def test_the_sweeps_listing_keeps_its_grace_and_aborts_stale_uploads(store: FileStore, s3: S3Server) -> None:
    old, other = new_file_id(), new_file_id()
    for file_id in (old, other):
        await store.write(file_id, _chunks(b"kept"), 100)
    now = time.time()
    assert store.stored(now, 60, 3600).file_ids == []  # younger than the grace: maybe still being recorded
    later = store.stored(now + 120, 60, 3600)
    assert sorted(later.file_ids) == sorted([old, other]) and later.partials_removed == 0

    if isinstance(store, S3FileStore):  # a process that died mid-upload leaves an open multipart upload
        s3.client().create_multipart_upload(Bucket=store.bucket, Key=store.prefix + new_file_id())
    else:
        partial = store.path(new_file_id())
        partial = partial.with_name(partial.name + ".partial")
        partial.parent.mkdir(parents=True, exist_ok=True)
        partial.write_bytes(b"half")
    if not isinstance(store, S3FileStore):  # moto reports every upload as initiated on 2010-11-10
        assert store.stored(now + 120, 60, 3600).partials_removed == 0  # not stale yet
    assert store.stored(now + 7200, 60, 3600).partials_removed == 1
    if isinstance(store, S3FileStore):
        assert s3.open_uploads(store.bucket) == 0

    assert store.remove([old]) == 1
    assert store.stored(now + 120, 60, 3600).file_ids == [other]
    with pytest.raises(RingsideError):
        store.read_bytes("../../etc/passwd")  # an id we never issued is no key nor path
