"""Authentication before the body, and a body bound per route (API.md "Bodies", issue 15 item 3).

A request that may carry a body is authenticated from its headers first — a Client Token (already
verified by the client_tokens middleware), the operator's admin key, or an API key the core
confirms — so an anonymous client never makes the edge read, let alone buffer, its body: its 401
goes out at once, and aiohttp discards (never stores) what it still sends. The body is then read
up to the route's bound, 413 `payload_too_large` above it, before a byte past the bound is kept.
"""

from __future__ import annotations

import hmac
import time

from aiohttp import web

from edge_http.client_tokens import token_of
from edge_http.context import EDGE, Edge
from edge_http.handlers.common import MISSING_KEY, bearer
from edge_http.middlewares import Handler
from edge_http.verified_keys import VERIFIED_KEY_TTL_S
from ringside.core.v1 import keys_pb2
from ringside_server.errors import RingsideError
from ringside_server.single_flight import refresh_due

# Routes whose body is a model request (OpenAI accepts large base64 images): body_max_model_bytes.
MODEL_JSON_PATHS = frozenset(
    {
        "/v1/chat/completions",
        "/chat/completions",
        "/v1/embeddings",
        "/v1/moderations",
        "/v1/responses",
        "/v1/messages",
        "/v1/messages/count_tokens",
        "/v1/images/generations",
        "/v1/audio/speech",
    }
)
# Multipart routes with bounds of their own (API.md "Bodies"): OpenAI's audio limit, image forms.
MULTIPART_BOUNDS = {
    "/v1/audio/transcriptions": 25 * 1024 * 1024,
    "/v1/audio/translations": 25 * 1024 * 1024,
    "/v1/images/edits": 64 * 1024 * 1024,
    "/v1/images/variations": 64 * 1024 * 1024,
}
FORM_OVERHEAD_BYTES = 64 * 1024  # an upload's form fields and part headers beside the file itself
# Routes anyone may call (probes, the documents); they take no body.
ANONYMOUS_PATHS = frozenset({"/healthz", "/livez", "/readyz", "/openapi.json", "/.well-known/jwks.json"})


def body_bound(edge: Edge, path: str) -> int:
    settings = edge.settings
    if path == "/v1/files":  # streamed to the file store; the handler bounds the file itself (413)
        return settings.max_file_bytes + FORM_OVERHEAD_BYTES
    if path in MULTIPART_BOUNDS:
        return MULTIPART_BOUNDS[path]
    return (
        settings.body_max_model_bytes if path in MODEL_JSON_PATHS or _thread_messages(path) else settings.body_max_bytes
    )


def _thread_messages(path: str) -> bool:
    """A thread's messages are model content (API.md "Bodies"): a thread made with messages, one added."""
    return path == "/v1/threads" or (path.startswith("/v1/threads/") and path.endswith("/messages"))


async def authenticate(edge: Edge, request: web.Request) -> None:
    """401 unless the headers carry a credential that is good (a token's route checks are the
    client_tokens middleware's; scopes stay the core's)."""
    if token_of(request) is not None:
        return
    api_key = bearer(request)
    if not api_key:
        raise RingsideError("invalid_api_key", MISSING_KEY)
    admin_key = edge.settings.admin_key
    if admin_key and hmac.compare_digest(api_key.encode(), admin_key.encode()):
        return

    async def verify() -> None:
        asked_at = time.monotonic()
        try:
            await edge.core.internal(edge.core.keys.VerifyApiKey, keys_pb2.VerifyApiKeyRequest(api_key=api_key))
        except RingsideError as error:
            if error.code == "invalid_api_key":
                edge.verified_keys.forget(api_key)  # a refresh that finds it revoked ends its trust now
            raise
        edge.verified_keys.add(api_key, asked_at)

    now = time.monotonic()
    trusted_until = edge.verified_keys.trusted_until(api_key)
    if trusted_until > now:
        if refresh_due(trusted_until, VERIFIED_KEY_TTL_S, now):  # ahead of its end, off this request's path
            edge.key_checks.refresh(api_key, verify, edge.answering.quiet_within(trusted_until, now))
        return
    # the requests that find the key's entry expired share one VerifyApiKey (single_flight.py)
    await edge.key_checks.run(api_key, verify)


@web.middleware
async def bodies(request: web.Request, handler: Handler) -> web.StreamResponse:
    edge = request.app[EDGE]
    bound = body_bound(edge, request.path)
    if request.content_length is not None and request.content_length > bound:
        raise RingsideError("payload_too_large", f"The request body is larger than {bound} bytes.")
    routed = request.match_info.http_exception is None  # a 404 or 405 reads no body either
    if routed and request.body_exists and request.path not in ANONYMOUS_PATHS:
        await authenticate(edge, request)
    # aiohttp's read() refuses past this many bytes as they stream in (HTTPRequestEntityTooLarge).
    request._client_max_size = bound
    return await handler(request)
