"""What a metered call is given (who calls, what they ask) and what it gives back (an answer to
relay), in no transport's terms: the edge maps HTTP onto these, a worker builds them directly."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from ringside_server.admission import PriceClasses
from ringside_server.openai.sse import split_events
from ringside_server.providers.capabilities import Route
from ringside_server.providers.catalog.load import CatalogModel, ModelKind


@dataclass(frozen=True, slots=True)
class Caller:
    """Who makes the call, as the core's admission rules see it."""

    api_key: str
    live: bool  # a live key, or a live Client Token: only live calls reach a provider
    customer_ref: str = ""  # FC-Customer
    client_ip: str = ""
    client_token: str = ""  # a browser's Client Token (already verified), and its id
    client_token_id: str = ""
    # A key's work Ringside does later (a batch's line, an Assistants run): the key by id, api_key empty
    key_id: str = ""


def _renamed(body: dict[str, Any], model: CatalogModel, max_output_tokens: int, output_limited: bool) -> dict[str, Any]:
    return {**body, "model": model.name}


def _no_problem(answer: Any) -> str | None:
    return None


def _as_listed(model: CatalogModel) -> CatalogModel:
    return model


def _usage_member(answer: Any, model: CatalogModel) -> Any:
    return answer.get("usage") if isinstance(answer, dict) else None


# (body, model, the admission's output bound, whether the room limited it) → the upstream body
UpstreamBody = Callable[[dict[str, Any], CatalogModel, int, bool], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class MeteredRequest:
    """One route's request, validated by its caller; the route's own rules come as data and small
    functions, so MeteredCall holds none of them."""

    route: Route
    body: dict[str, Any]
    model_ref: object  # fc:, match:, slot:, or a bare name (the account's slot, or its bare_model_provider)
    input_tokens_bound: Callable[[CatalogModel], int]  # the prompt's upper bound for this model
    model_kind: ModelKind | None = None  # the catalog kind the route needs (None: any)
    requested_output_tokens: int = 0
    choices: int = 1
    # The priced classes the request can incur (its estimate prices only these); None: every class
    price_classes: PriceClasses | None = None
    stream: bool = False
    peer: bool = False  # the peer proxy's routes (no /v1); a bare name resolves alike on every route
    upstream_body: UpstreamBody = _renamed
    # A complete answer that is not the route's shape: a message (settled as failed, 502)
    answer_problem: Callable[[Any], str | None] = _no_problem
    max_answer_bytes: int = 64 * 1024 * 1024
    # The model as this request is priced (images: per image of the asked size and quality)
    priced: Callable[[CatalogModel], CatalogModel] = _as_listed
    # A complete answer's usage in OpenAI's `usage` shape (images: one output unit per image)
    answer_usage: Callable[[Any, CatalogModel], Any] = _usage_member
    # A binary answer relayed as it arrives, priced by answer_usage(None, model) (speech's audio)
    byte_stream: bool = False
    # A stream of the route's own SSE events (not chat chunks), relayed as they come: the usage an
    # event carries, or None (transcriptions' `transcript.text.done`)
    event_usage: Callable[[Any], Any] | None = None


@dataclass(slots=True)
class Relay:
    """A streamed answer's bytes. Iterate to the end, then `close()`; on a client that left, call
    `close(client_gone=True)` (the call settles as aborted with what was counted). Always close.

    Iterating gives pieces to write as they are: a piece may hold several whole events (those one
    upstream read brought, written at once). What rewrites the stream event by event iterates
    `events()`."""

    frames: AsyncIterator[bytes]
    closer: Callable[[bool], Awaitable[None]]

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self.frames

    async def events(self) -> AsyncIterator[bytes]:
        """The stream one event at a time."""
        async for piece in self.frames:
            for event in split_events(piece):
                yield event

    async def close(self, client_gone: bool = False) -> None:
        await self.closer(client_gone)


@dataclass(slots=True)
class Answer:
    """What to send the caller: a status, headers, and a complete body or a relay of frames."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    relay: Relay | None = None
    content_type: str = "application/json"
