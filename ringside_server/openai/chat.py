"""Chat Completions as a metered call sends it upstream: the provider's model name, the output
bound the admission allows, and usage always asked for on streams (so the call can be priced)."""

from __future__ import annotations

from typing import Any

from ringside_server.metering.request import MeteredRequest
from ringside_server.openai.estimate import input_tokens_bound
from ringside_server.openai.price_classes import chat_classes
from ringside_server.providers.catalog.load import CatalogModel


def output_bound_sent(model: CatalogModel, max_output_tokens: int, output_limited: bool, requested: int) -> bool:
    """Whether the provider is told the admission's output bound: when the room limited it, the
    client asked for one, or it is below the model's own maximum."""
    return bool(max_output_tokens) and (
        output_limited or bool(requested) or max_output_tokens < model.max_output_tokens
    )


def upstream_body(
    body: dict[str, Any], model: CatalogModel, max_output_tokens: int, output_limited: bool, requested: int
) -> dict[str, Any]:
    """The request as the provider gets it: its own model name, always usage, the output bound."""
    upstream = dict(body)
    upstream["model"] = model.name
    if output_bound_sent(model, max_output_tokens, output_limited, requested):
        # OpenAI's reasoning models refuse max_tokens: use it only when the client did.
        upstream["max_tokens" if "max_tokens" in body else "max_completion_tokens"] = max_output_tokens
    if body.get("stream"):
        options = body.get("stream_options")
        upstream["stream_options"] = {**(options if isinstance(options, dict) else {}), "include_usage": True}
    return upstream


def metered(body: dict[str, Any], peer: bool = False) -> MeteredRequest:
    """A validated chat body as MeteredCall runs it (the edge's route, an Assistants run's step)."""
    requested = body.get("max_completion_tokens") or body.get("max_tokens") or 0

    def bound(model: CatalogModel) -> int:
        return input_tokens_bound(body, model.max_image_tokens)

    def upstream(given: dict[str, Any], model: CatalogModel, max_output_tokens: int, limited: bool) -> dict[str, Any]:
        return upstream_body(given, model, max_output_tokens, limited, requested)

    return MeteredRequest(
        route="chat",
        body=body,
        model_ref=body.get("model"),
        input_tokens_bound=bound,
        requested_output_tokens=requested,
        choices=body.get("n") or 1,
        price_classes=chat_classes(body),
        stream=bool(body.get("stream")),
        peer=peer,
        upstream_body=upstream,
    )
