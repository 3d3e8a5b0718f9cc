"""OpenAI's Files and Batch APIs as a batch forwarded to a provider speaks them (API.md "Batch money"):
upload the rewritten input, create the batch, read it, cancel it, download its result files. The
provider's own connection (its base URL, key and session) is used, as for its calls."""

from __future__ import annotations

from typing import Any

import aiohttp
import orjson

from ringside_server.errors import RingsideError
from ringside_server.providers.openai_compat import OpenAICompatProvider


class UpstreamBatches:
    def __init__(self, provider: OpenAICompatProvider) -> None:
        self._provider = provider

    def _url(self, route: str) -> str:
        return self._provider.url("", route)

    def _headers(self) -> dict[str, str]:
        return {name: value for name, value in self._provider.headers.items() if name != "Content-Type"}

    async def _call(self, method: str, route: str, **options: Any) -> bytes:
        session = self._provider.session
        async with session.request(method, self._url(route), headers=self._headers(), **options) as response:
            body = await response.read()
            if response.status >= 300:
                # the core-away code: the activity is retried (a provider's 5xx, its 429)
                raise RingsideError("service_unavailable", f"{method} {route}: {response.status} {body[:300]!r}")
            return body

    async def upload(self, content: bytes) -> str:
        form = aiohttp.FormData()
        form.add_field("purpose", "batch")
        form.add_field("file", content, filename="batch.jsonl", content_type="application/jsonl")
        return str(orjson.loads(await self._call("POST", "files", data=form))["id"])

    async def create(self, input_file_id: str, endpoint: str, ringside_batch_id: str) -> dict[str, Any]:
        body = {
            "input_file_id": input_file_id,
            "endpoint": endpoint,
            "completion_window": "24h",
            "metadata": {"ringside_batch_id": ringside_batch_id},
        }
        answer: dict[str, Any] = orjson.loads(await self._call("POST", "batches", json=body))
        return answer

    async def retrieve(self, batch_id: str) -> dict[str, Any]:
        answer: dict[str, Any] = orjson.loads(await self._call("GET", f"batches/{batch_id}"))
        return answer

    async def cancel(self, batch_id: str) -> None:
        await self._call("POST", f"batches/{batch_id}/cancel")

    async def content(self, file_id: str | None) -> bytes:
        return b"" if not file_id else await self._call("GET", f"files/{file_id}/content")
