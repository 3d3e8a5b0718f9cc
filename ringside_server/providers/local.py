"""`fc:local/*`: the models the rag role runs on this installation's own CPU (DECISIONS.md, 16).

Not a paid provider: live and test keys alike reach it (test mode does not swap it for the test
model), and its calls are metered like any other at the catalog's price (0 by default) with their
real token counts. The embedding runtime lives in the rag role; this is its gRPC client, so the
edge never loads the model.
"""

from __future__ import annotations

from typing import Any

import orjson

from ringside.rag.v1 import rag_pb2
from ringside_server.errors import RingsideError
from ringside_server.openai import embeddings
from ringside_server.providers.base import BufferedResponse
from ringside_server.rag_client import RagClient

LOCAL_PROVIDER = "local"
EMBED_TIMEOUT_S = 120.0  # 2048 texts at the window on two loaded cores


class LocalProvider:
    """Serves `POST /v1/embeddings` for `fc:local/<model>` through the rag role's Embed call."""

    id = LOCAL_PROVIDER

    def __init__(self, rag: RagClient) -> None:
        self._rag = rag

    async def chat_completions(self, body: dict[str, Any]) -> BufferedResponse:
        raise RingsideError("route_not_supported", "Provider 'local' serves embeddings only.", "model")

    async def embeddings(self, body: dict[str, Any]) -> BufferedResponse:
        """OpenAI's embeddings answer from the rag role's vectors; usage is the model's word pieces."""
        model = str(body.get("model", ""))  # the catalog name: the ref's `fc:local/` is taken off upstream
        texts = _texts(body)
        request = rag_pb2.EmbedRequest(texts=texts, model=f"fc:{LOCAL_PROVIDER}/{model}")
        answer = await self._rag.call(self._rag.stub.Embed, request, timeout_s=EMBED_TIMEOUT_S)
        dimensions = body.get("dimensions")
        encoding = str(body.get("encoding_format", "float"))
        data = []
        for index, vector in enumerate(answer.embeddings):
            values = list(vector.values)
            if isinstance(dimensions, int) and dimensions != len(values):
                message = f"{model} has {len(values)} dimensions; it cannot shorten them."
                raise RingsideError("invalid_request", message, "dimensions")
            data.append({"object": "embedding", "index": index, "embedding": embeddings.encode(values, encoding)})
        tokens = int(answer.total_tokens)
        body_out = {
            "object": "list",
            "data": data,
            "model": model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
        return BufferedResponse(orjson.dumps(body_out), None)


def _texts(body: dict[str, Any]) -> list[str]:
    """The (already bounded) inputs as texts: token arrays are another tokenizer's ids, refused."""
    texts = []
    for item in embeddings.as_items(body.get("input")):
        if not isinstance(item, str):
            raise RingsideError("invalid_request", "fc:local models take text input only, not token arrays.", "input")
        if not item.strip():
            raise RingsideError("invalid_request", "every input must contain non-blank text.", "input")
        texts.append(item)
    return texts
