"""Which routes each kind of provider serves, and how: one table (API.md "Model calls": a provider
declares the routes it serves; a ref whose provider does not serve the route is 400
`route_not_supported`, naming the routes it does serve).

`native`: the provider speaks OpenAI's wire format for the route, the body is relayed as it came.
`translated`: Ringside translates the request and the answer (Anthropic, Gemini, Cohere, Bedrock).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from ringside_server.errors import RingsideError
from ringside_server.providers.base import Provider, UpstreamResponse
from ringside_server.providers.catalog.load import ConnectionKind

Route = Literal["chat", "responses", "embeddings", "images", "audio", "moderations", "batch", "messages"]
Support = Literal["native", "translated"]

_OPENAI_WIRE: Mapping[Route, Support] = {"chat": "native", "embeddings": "native", "moderations": "native"}
CAPABILITIES: Mapping[ConnectionKind, Mapping[Route, Support]] = {
    "openai": _OPENAI_WIRE,
    "azure": _OPENAI_WIRE,
    "test": _OPENAI_WIRE,  # the built-in test model answers every route a live provider could
    "anthropic": {"chat": "translated"},
    "gemini": {"chat": "translated"},
    "cohere": {"chat": "translated"},
    "bedrock": {"chat": "translated"},
}
# The provider method that sends each route's (already rewritten) OpenAI-format body.
METHODS: Mapping[Route, str] = {
    "chat": "chat_completions",
    "embeddings": "embeddings",
    "moderations": "moderations",
}


def require(kind: ConnectionKind, provider_id: str, route: Route) -> Support:
    """How `kind` serves `route`; 400 `route_not_supported` (param `model`) when it does not."""
    served = CAPABILITIES.get(kind, {})
    support = served.get(route)
    if support is None:
        can = ", ".join(f"{name} ({how})" for name, how in served.items()) or "nothing"
        raise RingsideError(
            "route_not_supported",
            f"Provider '{provider_id}' does not serve {route}; it serves: {can}.",
            "model",
        )
    return support


async def send(provider: Provider, route: Route, body: dict[str, Any]) -> UpstreamResponse:
    """Send `body` on `route` through the method the table names for it."""
    method = getattr(provider, METHODS[route], None)
    if method is None:  # a table row without its method: a bug, said plainly
        raise RingsideError("internal_error", f"Provider '{provider.id}' has no method for {route}.")
    response: UpstreamResponse = await method(body)
    return response
