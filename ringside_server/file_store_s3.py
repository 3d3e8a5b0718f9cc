"""The file store in an S3-compatible bucket (`RINGSIDE_FILES_URL=s3://bucket/prefix`): what several
edges, rag processes and batch workers on different nodes share (API.md "Managed RAG → Storage").

An upload streams into a multipart upload a part at a time (one part in memory, never the file); the
object exists only once the upload completes, so a reader never sees half a file. An upload refused
or cut off is aborted; one whose process died mid-way stays an incomplete multipart upload, which the
sweep aborts once untouched for RINGSIDE_RAG_PARTIAL_UPLOAD_TTL_S (the local store's `.partial`).
boto3's client is thread-safe and blocking: every call runs on a thread."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from ringside_server.file_store import READ_CHUNK_BYTES, FileStore, Measured, Stored, Written, checked_id
from ringside_server.settings import Settings

MIN_PART_BYTES = 8 * 1024 * 1024  # S3 takes parts of ≥ 5 MiB (but the last)
MAX_PARTS = 10_000  # S3's bound on one multipart upload
DELETE_AT_ONCE = 1000  # S3's bound on one DeleteObjects
NOT_FOUND = {"404", "NoSuchKey", "NotFound"}


class S3FileStore(FileStore):
    """Files by id as objects `<prefix><id>` in one bucket."""

    def __init__(self, client: Any, bucket: str, prefix: str) -> None:
        self._s3 = client
        self.bucket = bucket
        self.prefix = prefix

    @classmethod
    def from_settings(cls, settings: Settings) -> S3FileStore:
        assert settings.files_url
        parts = urlsplit(settings.files_url)
        prefix = parts.path.strip("/")
        secret = settings.files_s3_secret_access_key
        client = boto3.session.Session().client(
            "s3",
            endpoint_url=settings.files_s3_endpoint_url or None,
            region_name=settings.files_s3_region or None,
            # unset: boto3's own chain (AWS_* variables, a profile, the instance's or pod's role)
            aws_access_key_id=settings.files_s3_access_key_id or None,
            aws_secret_access_key=secret.get_secret_value() if secret is not None else None,
            config=Config(
                s3={"addressing_style": settings.files_s3_addressing_style},
                connect_timeout=10,
                read_timeout=60,
                retries={"max_attempts": 5, "mode": "standard"},
            ),
        )
        return cls(client, parts.netloc, prefix + "/" if prefix else "")

    def _key(self, file_id: str) -> str:
        return self.prefix + checked_id(file_id)

    async def write(self, file_id: str, chunks: AsyncIterator[bytes], max_bytes: int) -> Written:
        key = self._key(file_id)
        part_bytes = max(MIN_PART_BYTES, -(-max_bytes // MAX_PARTS))
        measured = Measured(max_bytes)
        buffer = bytearray()
        upload_id = ""
        parts: list[dict[str, Any]] = []
        try:
            async for chunk in chunks:
                buffer += measured.take(chunk)
                if len(buffer) >= part_bytes:
                    if not upload_id:
                        started = await asyncio.to_thread(self._s3.create_multipart_upload, Bucket=self.bucket, Key=key)
                        upload_id = started["UploadId"]
                    parts.append(await asyncio.to_thread(self._part, key, upload_id, len(parts) + 1, bytes(buffer)))
                    buffer.clear()
            if not upload_id:
                await asyncio.to_thread(self._s3.put_object, Bucket=self.bucket, Key=key, Body=bytes(buffer))
            else:
                if buffer:
                    parts.append(await asyncio.to_thread(self._part, key, upload_id, len(parts) + 1, bytes(buffer)))
                await asyncio.to_thread(
                    self._s3.complete_multipart_upload,
                    Bucket=self.bucket,
                    Key=key,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": parts},
                )
        except BaseException:
            if upload_id:  # its parts go; a put cut off mid-flight never became an object
                with contextlib.suppress(Exception):
                    await asyncio.to_thread(
                        self._s3.abort_multipart_upload, Bucket=self.bucket, Key=key, UploadId=upload_id
                    )
            raise
        return measured.written()

    def _part(self, key: str, upload_id: str, number: int, body: bytes) -> dict[str, Any]:
        sent = self._s3.upload_part(Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body)
        return {"PartNumber": number, "ETag": sent["ETag"]}

    def read_bytes(self, file_id: str) -> bytes:
        with contextlib.closing(self._body(file_id)) as body:
            data: bytes = body.read()
            return data

    def _body(self, file_id: str) -> Any:
        try:
            return self._s3.get_object(Bucket=self.bucket, Key=self._key(file_id))["Body"]
        except ClientError as error:
            if _code(error) in NOT_FOUND:
                raise FileNotFoundError(file_id) from None
            raise

    def size(self, file_id: str) -> int | None:
        try:
            return int(self._s3.head_object(Bucket=self.bucket, Key=self._key(file_id))["ContentLength"])
        except ClientError as error:
            if _code(error) in NOT_FOUND:
                return None
            raise

    def read_chunks(self, file_id: str) -> Iterator[bytes]:
        body = self._body(file_id)  # FileNotFoundError here, before the first chunk

        def chunks() -> Iterator[bytes]:
            with contextlib.closing(body):
                yield from body.iter_chunks(READ_CHUNK_BYTES)

        return chunks()

    def delete_now(self, file_id: str) -> None:
        self._s3.delete_object(Bucket=self.bucket, Key=self._key(file_id))  # S3: none is no error

    def stored(self, now: float, grace_s: float, partial_ttl_s: float) -> Stored:
        found: list[str] = []
        for page in self._s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix):
            for item in page.get("Contents", []):
                name = item["Key"][len(self.prefix) :]
                if "/" not in name and now - item["LastModified"].timestamp() >= grace_s:
                    found.append(name)
        removed = 0
        for page in self._s3.get_paginator("list_multipart_uploads").paginate(Bucket=self.bucket, Prefix=self.prefix):
            for upload in page.get("Uploads", []):
                if now - upload["Initiated"].timestamp() > partial_ttl_s:
                    self._s3.abort_multipart_upload(Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"])
                    removed += 1
        return Stored(found, removed)

    def remove(self, file_ids: list[str]) -> int:
        removed = 0
        for start in range(0, len(file_ids), DELETE_AT_ONCE):
            keys = [{"Key": self._key(file_id)} for file_id in file_ids[start : start + DELETE_AT_ONCE]]
            answer = self._s3.delete_objects(Bucket=self.bucket, Delete={"Objects": keys, "Quiet": True})
            removed += len(keys) - len(answer.get("Errors", []))
        return removed


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))
