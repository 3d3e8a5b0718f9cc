"""POST /v1/messages (Anthropic's Messages API): the body Ringside reads, as the chat call it runs.

The request is read as Anthropic's (ringside_server/messages/request.py) and run as an OpenAI chat
call on the `messages` route, so any provider can serve it and it is metered exactly like chat.
"""

from __future__ import annotations

from typing import Any, Required, TypedDict

from ringside_server.errors import RingsideError
from ringside_server.jsonio import parse_model_body
from ringside_server.messages.request import chat_body
from ringside_server.metering.request import MeteredRequest
from ringside_server.openai import chat
from ringside_server.openai.estimate import input_tokens_bound
from ringside_server.providers.capabilities import MESSAGES_BETA, ORIGINAL_MESSAGES_BODY
from ringside_server.providers.catalog.load import CatalogModel

MAX_BETA_CHARS = 1000


class MessagesRequest(TypedDict, total=False):
    """The fields Ringside reads (request.py translates them); the rest is Anthropic's own."""

    model: Required[str]
    max_tokens: Required[int]
    messages: Required[list[dict[str, Any]]]
    system: str | list[dict[str, Any]]
    tools: list[dict[str, Any]]
    tool_choice: dict[str, Any]
    thinking: dict[str, Any]
    stop_sequences: list[str]
    metadata: dict[str, Any]
    stream: bool


def metered_request(raw: bytes, beta: str = "") -> MeteredRequest:
    """The Messages call as MeteredCall runs it: an OpenAI chat call on the `messages` route.
    `beta`: the client's `anthropic-beta` header, sent on to Anthropic with its body."""
    original = parse_model_body(raw)
    body = chat_body(original)
    body[ORIGINAL_MESSAGES_BODY] = original  # for a provider that speaks Messages itself
    if beta:
        if len(beta) > MAX_BETA_CHARS or not (beta.isascii() and beta.isprintable()):
            raise RingsideError("invalid_request", "The anthropic-beta header is not a list of beta names.")
        body[MESSAGES_BETA] = beta
    requested = int(body["max_completion_tokens"])

    def bound(model: CatalogModel) -> int:
        return input_tokens_bound(body, model.max_image_tokens)

    def upstream(given: dict[str, Any], model: CatalogModel, max_output_tokens: int, limited: bool) -> dict[str, Any]:
        return chat.upstream_body(given, model, max_output_tokens, limited, requested)

    return MeteredRequest(
        route="messages",
        body=body,
        model_ref=body["model"],
        input_tokens_bound=bound,
        model_kind="chat",
        requested_output_tokens=requested,
        stream=bool(body.get("stream")),
        upstream_body=upstream,
    )
