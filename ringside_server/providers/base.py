"""What the edge needs of a provider: send an OpenAI-format request, get the raw response back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol


class UpstreamResponse(Protocol):
    """A provider's answer, in OpenAI's wire format, read incrementally."""

    status: int

    def content_type(self) -> str: ...

    def header(self, name: str) -> str | None:
        """A response header (e.g. `retry-after`), None when absent."""

    async def read(self, limit_bytes: int) -> bytes:
        """The whole body (non-streaming answers and errors); raises past `limit_bytes`."""

    def lines(self) -> AsyncIterator[bytes]:
        """The body line by line, each with its trailing newline (SSE)."""

    def close(self) -> None:
        """Stop reading; for a live upstream this cancels the call (the connection is closed)."""


class Provider(Protocol):
    """Every provider serves chat; the other routes a provider serves are methods of the names
    capabilities.METHODS gives (`embeddings`, `moderations`, …), declared in capabilities.CAPABILITIES."""

    id: str

    async def chat_completions(self, body: dict[str, Any]) -> UpstreamResponse:
        """Send an OpenAI chat completions request body (already rewritten for the upstream)."""


class BufferedResponse:
    """An answer already whole in memory (the test model, the local model): a body, or SSE frames."""

    def __init__(self, body: bytes, frames: list[bytes] | None, status: int = 200) -> None:
        self.status = status
        self._body = body
        self._frames = frames

    def content_type(self) -> str:
        return "text/event-stream; charset=utf-8" if self._frames is not None else "application/json"

    def header(self, name: str) -> str | None:
        return None

    async def read(self, limit_bytes: int) -> bytes:
        return self._body

    async def lines(self) -> AsyncIterator[bytes]:
        for frame in self._frames or []:
            for line in frame.splitlines(keepends=True):
                yield line

    def close(self) -> None:
        self._frames = []
