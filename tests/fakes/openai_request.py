"""Reading a Chat Completions request: the fields the fake acts on, and its fault markers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

from tests.fakes import openai_wire as wire

MAX_CHOICES = 8


@dataclass(frozen=True)
class Faults:
    """Faults asked for by markers in the last user message."""

    status: int | None = None
    stall: bool = False
    midstream_error: bool = False
    slow_ms: float | None = None


@dataclass(frozen=True)
class ChatRequest:
    """The fields of a chat request the fake acts on."""

    model: str
    messages: list[Any]
    stream: bool
    include_usage: bool
    max_tokens: int | None
    choice_count: int
    # (name, arguments JSON) of the function the model calls: given tools, a user's turn is answered
    # with a call to the first (or the chosen) function; the tool's result is answered with text.
    tool_call: tuple[str, str] | None = None


class BadRequest(Exception):
    """A request OpenAI would refuse with 400; carries the envelope's message and param."""

    def __init__(self, message: str, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message, self.param, self.code = message, param, code


_MARKER = re.compile(r"\[\[fake:(?:status=(\d{3})|(stall)|(midstream_error)|slow=(\d{1,6}))\]\]")
_MAX_MARKERS = 4


def parse_faults(text: str) -> Faults:
    """Read fault markers at the very start of ``text`` (they stay part of the prompt)."""
    found: dict[str, Any] = {}
    position = 0
    for _ in range(_MAX_MARKERS):
        match = _MARKER.match(text, position)
        if match is None:
            break
        status, stall, midstream, slow = match.groups()
        if status:
            found["status"] = int(status)
        if stall:
            found["stall"] = True
        if midstream:
            found["midstream_error"] = True
        if slow:
            found["slow_ms"] = float(slow)
        position = match.end()
    return Faults(**found)


def _optional_positive_int(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise BadRequest(f"Invalid '{name}': expected an integer of at least 1.", param=name)
    return value


def parse_chat_request(body: Any) -> ChatRequest:
    """Validate the parts of a Chat Completions body the fake uses, as strictly as OpenAI does."""
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise BadRequest("you must provide a model parameter")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest("Missing required parameter: 'messages'.", param="messages", code="missing_required_parameter")
    options = body.get("stream_options")
    choice_count = _optional_positive_int(body, "n") or 1
    if choice_count > MAX_CHOICES:
        raise BadRequest(f"Invalid 'n': at most {MAX_CHOICES} is supported by the fake.", param="n")
    max_tokens = _optional_positive_int(body, "max_completion_tokens")
    return ChatRequest(
        model=model,
        messages=messages,
        stream=body.get("stream") is True,
        include_usage=isinstance(options, dict) and options.get("include_usage") is True,
        max_tokens=max_tokens if max_tokens is not None else _optional_positive_int(body, "max_tokens"),
        choice_count=choice_count,
        tool_call=_tool_call(body, messages),
    )


_ARGUMENT_BY_TYPE: dict[str, Any] = {"string": "lorem", "integer": 1, "number": 1, "boolean": True, "array": []}


def _tool_call(body: dict[str, Any], messages: list[Any]) -> tuple[str, str] | None:
    """The function the fake model calls, with arguments for the schema's required properties."""
    tools, choice = body.get("tools"), body.get("tool_choice", "auto")
    if not isinstance(tools, list) or not tools or choice == "none":
        return None
    last = messages[-1] if messages else None
    if not isinstance(last, dict) or last.get("role") != "user":
        return None  # a tool's result (or an assistant turn) is answered with text
    functions = [
        tool.get("function") for tool in tools if isinstance(tool, dict) and isinstance(tool.get("function"), dict)
    ]
    if isinstance(choice, dict):
        wanted = (choice.get("function") or {}).get("name")
        functions = [function for function in functions if function.get("name") == wanted]
    if not functions or not isinstance(functions[0].get("name"), str):
        raise BadRequest("Invalid 'tools': each tool needs a function with a name.", param="tools")
    schema = functions[0].get("parameters") or {}
    properties = schema.get("properties") or {} if isinstance(schema, dict) else {}
    arguments = {
        name: _ARGUMENT_BY_TYPE.get((properties.get(name) or {}).get("type"), {})
        for name in (schema.get("required") or [] if isinstance(schema, dict) else [])
    }
    return functions[0]["name"], orjson.dumps(arguments).decode()


def last_user_text(messages: list[Any]) -> str:
    """The text of the last user message, where fault markers are looked for."""
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            return wire.message_text(message)
    return ""
