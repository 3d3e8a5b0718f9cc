"""The gRPC client of the rag role (ringside.rag.v1.RagService) every other role uses: the edge
(the local models' embeddings, dropping a deleted store's index) and the workers. It holds no
model and no index: those live in the rag role alone (DECISIONS.md 16)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc

from ringside.rag.v1 import rag_pb2, rag_pb2_grpc
from ringside_server.errors import RingsideError

T = TypeVar("T")
INTERNAL_KEY = "x-ringside-internal"
CHANNEL_OPTIONS = [("grpc.max_receive_message_length", 64 * 1024 * 1024), ("grpc.keepalive_time_ms", 30_000)]


class RagClient:
    def __init__(self, address: str, internal_token: str) -> None:
        self._channel = grpc.aio.insecure_channel(address, options=CHANNEL_OPTIONS)
        self.stub = rag_pb2_grpc.RagServiceStub(self._channel)
        self._metadata = ((INTERNAL_KEY, internal_token),)

    async def close(self) -> None:
        await self._channel.close(None)

    async def call(self, method: Callable[..., Awaitable[T]], request: Any, timeout_s: float) -> T:
        """One call; the rag role's refusal in OpenAI's terms, the role down as 503."""
        try:
            return await method(request, metadata=self._metadata, timeout=timeout_s)
        except grpc.aio.AioRpcError as error:
            raise translate(error) from None

    async def drop_index(self, store_id: str, generation: int) -> None:
        request = rag_pb2.DropIndexRequest(index=rag_pb2.IndexRef(store_id=store_id, generation=generation))
        await self.call(self.stub.DropIndex, request, timeout_s=60.0)

    async def delete_file(self, store_id: str, generation: int, file_id: str) -> None:
        request = rag_pb2.DeleteFileRequest(
            index=rag_pb2.IndexRef(store_id=store_id, generation=generation), file_id=file_id
        )
        await self.call(self.stub.DeleteFile, request, timeout_s=60.0)

    async def set_attributes(
        self, store_id: str, generation: int, file_id: str, attributes_json: str, version: int = 0
    ) -> None:
        """The file's chunks in that index carry these attributes when this returns (none indexed: a
        no-op), or newer ones: chunks already at `version` or later keep theirs (0: always written)."""
        request = rag_pb2.SetFileAttributesRequest(
            index=rag_pb2.IndexRef(store_id=store_id, generation=generation),
            file_id=file_id,
            attributes_json=attributes_json,
            attributes_version=version,
        )
        await self.call(self.stub.SetFileAttributes, request, timeout_s=60.0)


def translate(error: grpc.aio.AioRpcError) -> RingsideError:
    if error.code() == grpc.StatusCode.INVALID_ARGUMENT:
        return RingsideError("invalid_request", error.details() or "the rag role refused the input", "input")
    if error.code() == grpc.StatusCode.NOT_FOUND:  # an index that does not exist (nothing ingested yet)
        return RingsideError("not_found", error.details() or "no such index")
    if error.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
        return RingsideError("upstream_timeout", "The rag role did not answer in time.")
    return RingsideError(
        "model_unavailable", "The rag role (local models and vector indexes) is not reachable; is it running?", "model"
    )
