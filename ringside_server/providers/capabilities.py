"""The routes a provider may serve, how (`native`: OpenAI's wire format, relayed; `translated`:
Ringside translates request and answer), and the provider method that sends each route. Which kind
serves what is the registry's table (registry.KINDS)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from ringside_server.errors import RingsideError
from ringside_server.providers.base import Provider, UpstreamResponse

Route = Literal[
    "chat",
    "responses",
    "embeddings",
    "images",
    "image_edits",
    "image_variations",
    "audio",
    "speech",
    "transcriptions",
    "translations",
    "moderations",
    "batch",
    "messages",
]
Support = Literal["native", "translated"]

# The provider method that sends each route's (already rewritten) OpenAI-format body.
METHODS: Mapping[Route, str] = {
    "chat": "chat_completions",
    "responses": "responses",  # relayed only to a provider entry with `responses: native`
    "embeddings": "embeddings",
    "moderations": "moderations",
    "messages": "chat_completions",  # Anthropic's Messages ingress, read as a chat call (messages/)
    "images": "images_generations",
    "image_edits": "images_edits",
    "image_variations": "images_variations",
    "speech": "audio_speech",
    "transcriptions": "audio_transcriptions",
    "translations": "audio_translations",
}


# An Anthropic Messages request keeps its original body here, beside the chat body it was read as: a
# provider with a `messages` method (Anthropic's) sends the original, as the client wrote it
# (cache_control, thinking, …); every other provider is sent the chat body without it.
ORIGINAL_MESSAGES_BODY = "ringside_messages_request"
# …and the client's `anthropic-beta` header beside it (the features its body may use)
MESSAGES_BETA = "ringside_messages_beta"


async def send(provider: Provider, route: Route, body: dict[str, Any]) -> UpstreamResponse:
    """Send `body` on `route` through the method the table names for it."""
    if route == "messages":
        native = getattr(provider, "messages", None)
        if native is not None:
            answer: UpstreamResponse = await native(body)
            return answer
        body = {name: value for name, value in body.items() if name not in (ORIGINAL_MESSAGES_BODY, MESSAGES_BETA)}
    method = getattr(provider, METHODS[route], None)
    if method is None:  # a table row without its method: a bug, said plainly
        raise RingsideError("internal_error", f"Provider '{provider.id}' has no method for {route}.")
    response: UpstreamResponse = await method(body)
    return response
