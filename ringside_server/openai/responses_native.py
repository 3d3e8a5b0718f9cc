"""`POST /v1/responses` relayed to a provider that serves OpenAI's Responses API itself.

When: a live caller (test keys are always answered by the test model, translated), no `file_search`
tool (Ringside runs that search itself, against its own stores: the request is then translated),
and every model the ref may try is of a provider entry marked `responses: native` (OpenAI's own, by
default; a slot mixing such a provider with a chat-only one is translated for all its models, so a
fallback never changes the wire format mid-call). Everything else goes through chat (responses.py).

What stays Ringside's: the stored response and its id (the provider's id is replaced), its input
items, and the conversation. `previous_response_id` names Ringside's stored response: its chain is
sent to the provider as input items, and the provider is asked `store: false`, so it keeps nothing
(erasing a customer reaches every copy, and a chain may move between providers). Reasoning items are
not replayed (a stateless provider cannot resolve them). The call is priced from the provider's own
`usage`: input, cached input, output and reasoning tokens.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson

from ringside_server.jsonio import dumps
from ringside_server.metering.gateway import Gateway
from ringside_server.metering.request import Caller, MeteredRequest
from ringside_server.openai.chat import metered as chat_metered
from ringside_server.openai.chat import output_bound_sent
from ringside_server.openai.sse import data_of
from ringside_server.providers.catalog.load import CatalogModel

TERMINAL = frozenset({"response.completed", "response.incomplete", "response.failed"})


def applies(gateway: Gateway, caller: Caller, models: list[CatalogModel], file_search: object) -> bool:
    """Whether this request is relayed (see the module's docstring) rather than translated."""
    if not caller.live or file_search is not None or not models:
        return False
    for model in models:
        entry = gateway.refs.providers.get(model.provider)
        if entry is None or entry.connection.responses != "native":
            return False
    return True


def _replayed(item: dict[str, Any]) -> dict[str, Any] | None:
    """An item of the conversation as the provider is sent it: without Ringside's ids (a stateless
    provider knows none of them), an assistant's message as its text."""
    kind = item.get("type", "message")
    if kind == "message":
        if item.get("role") == "assistant":
            text = "".join(
                str(part.get("text") or part.get("refusal") or "")
                for part in item.get("content") or ()
                if isinstance(part, dict)
            )
            return {"role": "assistant", "content": text}
        return {"type": "message", "role": item["role"], "content": item["content"]}
    if kind == "function_call":
        return {"type": kind, **{name: item[name] for name in ("call_id", "name", "arguments")}}
    if kind == "function_call_output":
        return {"type": kind, "call_id": item["call_id"], "output": item["output"]}
    return None  # reasoning, a file_search call Ringside ran: nothing the provider can resolve


def native_body(body: dict[str, Any], history: list[dict[str, Any]], items: list[dict[str, Any]]) -> dict[str, Any]:
    """The client's request as the provider gets it: the whole conversation as input, nothing stored there."""
    upstream = {name: value for name, value in body.items() if name != "previous_response_id"}
    upstream["input"] = [replayed for item in [*history, *items] if (replayed := _replayed(item)) is not None]
    upstream["store"] = False
    return upstream


def chat_usage(usage: Any) -> dict[str, Any] | None:
    """The Responses API's `usage` in chat's shape, which the metering reads."""
    if not isinstance(usage, dict):
        return None
    input_details = usage.get("input_tokens_details")
    output_details = usage.get("output_tokens_details")
    return {
        "prompt_tokens": usage.get("input_tokens"),
        "completion_tokens": usage.get("output_tokens"),
        "prompt_tokens_details": {
            "cached_tokens": input_details.get("cached_tokens") if isinstance(input_details, dict) else 0
        },
        "completion_tokens_details": {
            "reasoning_tokens": output_details.get("reasoning_tokens") if isinstance(output_details, dict) else 0
        },
    }


def _answer_usage(answer: Any, model: CatalogModel) -> Any:
    return chat_usage(answer.get("usage")) if isinstance(answer, dict) else None


def _answer_problem(answer: Any) -> str | None:
    if isinstance(answer, dict) and answer.get("object") == "response":
        return None
    return "The provider's answer was not a Response."


def _event_usage(event: Any) -> Any:
    """The usage a stream's final event carries (the Response, completed, incomplete or failed)."""
    if isinstance(event, dict) and event.get("type") in TERMINAL and isinstance(event.get("response"), dict):
        return event["response"].get("usage")
    return None


def metered(native: dict[str, Any], chat: dict[str, Any]) -> MeteredRequest:
    """The relayed call as MeteredCall runs it. `chat`: the same request as chat completions, which
    the prompt's bound and the priced classes are read from (one estimate, whichever way it goes)."""
    translated = chat_metered(chat)
    requested = translated.requested_output_tokens

    def upstream(given: dict[str, Any], model: CatalogModel, max_output_tokens: int, limited: bool) -> dict[str, Any]:
        sent = {**given, "model": model.name}
        if output_bound_sent(model, max_output_tokens, limited, requested):
            sent["max_output_tokens"] = max_output_tokens
        return sent

    return dataclasses.replace(
        translated,
        route="responses",
        body=native,
        stream=bool(native.get("stream")),
        upstream_body=upstream,
        answer_problem=_answer_problem,
        answer_usage=_answer_usage,
        event_usage=_event_usage,
    )


def owned(response: dict[str, Any], response_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """The provider's Response as Ringside's: its id, the chain and `store` the client asked for."""
    response["id"] = response_id
    response["previous_response_id"] = body.get("previous_response_id")
    response["store"] = body.get("store", True) is not False
    return response


class EventRewriter:
    """The provider's stream, event by event, with every Response in it made Ringside's (`owned`); a
    stream cut short (Ringside's error frame, or no final event) ends with `response.failed`."""

    def __init__(self, response_id: str, body: dict[str, Any], skeleton: dict[str, Any]) -> None:
        self.response_id, self.body = response_id, body
        self.response = skeleton  # the latest snapshot seen
        self.sequence = 0
        self.ended = False

    def _event(self, payload: dict[str, Any]) -> bytes:
        return b"event: " + str(payload.get("type")).encode() + b"\ndata: " + dumps(payload) + b"\n\n"

    def frame(self, frame: bytes) -> bytes:
        data = data_of(frame)
        try:
            event = orjson.loads(data) if data else None
        except orjson.JSONDecodeError:
            event = None
        if not isinstance(event, dict):
            return frame  # a comment (keep-alive): as it came
        if "type" not in event and isinstance(event.get("error"), dict):  # Ringside's: the upstream broke
            return self.failed("server_error", str(event["error"].get("message") or "The stream broke."))
        if isinstance(event.get("sequence_number"), int):
            self.sequence = event["sequence_number"] + 1
        if isinstance(event.get("response"), dict):
            self.response = owned(event["response"], self.response_id, self.body)
        self.ended = self.ended or event.get("type") in TERMINAL
        return self._event(event)

    def failed(self, code: str, message: str) -> bytes:
        self.response = {**self.response, "status": "failed", "error": {"code": code, "message": message}}
        self.ended = True
        payload = {"type": "response.failed", "sequence_number": self.sequence, "response": self.response}
        self.sequence += 1
        return self._event(payload)
