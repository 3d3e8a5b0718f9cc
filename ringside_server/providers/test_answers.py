"""What the test model says to a (checked) chat body: text, a tool call whose arguments fit the
function's schema, or JSON that fits the requested `response_format` — cut at `stop` and at the
output limit as a model is, with logprobs when asked. Everything follows from the request (and its
`seed`), so the same request gets the same answer; only ids and `created` differ."""

from __future__ import annotations

import math
import secrets
import string
from dataclasses import dataclass, field
from typing import Any

import orjson

from ringside_server.providers.schema_values import value_for

REPLY = [
    "This",
    "is",
    "Ringside's",
    "test",
    "model",
    ".",
    "The",
    "answer",
    "is",
    "deterministic",
    ",",
    "metered",
    "at",
    "the",
    "price",
    "of",
    "the",
    "model",
    "you",
    "asked",
    "for",
    ",",
    "and",
    "never",
    "leaves",
    "this",
    "machine",
    ".",
]
ID_ALPHABET = string.ascii_letters + string.digits
PIECE_CHARS = 4  # generated JSON is counted and streamed in pieces of this many characters, ≈ a token


@dataclass(slots=True)
class ToolCall:
    id: str
    name: str
    arguments: list[str]  # the arguments' JSON text, in token-sized pieces


@dataclass(slots=True)
class Choice:
    """One choice: its content as tokens (text pieces) or one tool call, and why it stopped."""

    tokens: list[str] = field(default_factory=list)
    tool_call: ToolCall | None = None
    finish_reason: str = "stop"

    @property
    def text(self) -> str:
        return "".join(self.tokens)

    @property
    def completion_tokens(self) -> int:
        return len(self.tool_call.arguments) if self.tool_call else len(self.tokens)


def random_id(length: int) -> str:
    """A fresh id body, as OpenAI's: letters and digits."""
    return "".join(secrets.choice(ID_ALPHABET) for _ in range(length))


def _pieces(text: str) -> list[str]:
    return [text[i : i + PIECE_CHARS] for i in range(0, len(text), PIECE_CHARS)] or [""]


def _called_function(body: dict[str, Any]) -> dict[str, Any] | None:
    """The function to call: the named one, else the first tool under `required` or under `auto`
    (the default) — unless the conversation just gave a tool's result, which `auto` answers in text."""
    tools = [tool["function"] for tool in body.get("tools") or []]
    choice = body.get("tool_choice", "auto")
    if not tools or choice == "none":
        return None
    if isinstance(choice, dict):
        name = choice["function"]["name"]
        return next(function for function in tools if function["name"] == name)
    last = body["messages"][-1]
    if choice == "auto" and isinstance(last, dict) and last.get("role") == "tool":
        return None
    return tools[0]


def _content_tokens(body: dict[str, Any], seed: int) -> list[str]:
    response_format = body.get("response_format") or {}
    kind = response_format.get("type")
    if kind == "json_schema":
        schema = response_format["json_schema"].get("schema") or {"type": "object"}
        return _pieces(orjson.dumps(value_for(schema, seed)).decode())
    if kind == "json_object":
        return _pieces(orjson.dumps({"answer": " ".join(REPLY)}).decode())
    return [word if position == 0 else " " + word for position, word in enumerate(REPLY)]


def _cut(tokens: list[str], limit: int, stop: list[str]) -> tuple[list[str], str]:
    """The tokens a model emits before the output limit or a stop sequence, and its finish_reason."""
    kept = tokens[:limit]
    finish = "length" if len(kept) < len(tokens) else "stop"
    text = "".join(kept)
    found = [text.find(sequence) for sequence in stop if sequence and sequence in text]
    if not found:
        return kept, finish
    end, emitted, cut = min(found), 0, []
    for token in kept:  # the stop sequence itself is never emitted
        if emitted + len(token) > end:
            if end > emitted:
                cut.append(token[: end - emitted])
            break
        cut.append(token)
        emitted += len(token)
    return cut, "stop"


def choices(body: dict[str, Any], limit: int) -> list[Choice]:
    """The `n` choices for a checked chat body, each cut at `limit` output tokens."""
    seed = body.get("seed") or 0
    stop = body.get("stop")
    stops = [stop] if isinstance(stop, str) else list(stop or [])
    function = _called_function(body)
    made = []
    for index in range(body.get("n") or 1):
        if function is not None:
            arguments = orjson.dumps(value_for(function.get("parameters") or {"type": "object"}, seed + index))
            pieces = _pieces(arguments.decode())
            call = ToolCall("call_" + random_id(24), function["name"], pieces[:limit])
            forced = isinstance(body.get("tool_choice"), dict)  # OpenAI ends a forced call with "stop"
            finish = "length" if len(pieces) > limit else "stop" if forced else "tool_calls"
            made.append(Choice(tool_call=call, finish_reason=finish))
        else:
            tokens, finish = _cut(_content_tokens(body, seed + index), limit, stops)
            made.append(Choice(tokens=tokens, finish_reason=finish))
    return made


def logprobs(tokens: list[str], top: int) -> dict[str, Any]:
    """OpenAI's `logprobs` member: each token sure of itself, `top` alternatives listed after it."""

    def entry(token: str, logprob: float) -> dict[str, Any]:
        return {"token": token, "logprob": logprob, "bytes": list(token.encode())}

    content = []
    for token in tokens:
        alternatives = [entry(token, 0.0)] + [entry(f"{token}{i}", -math.log(i + 2) * 4) for i in range(top - 1)]
        content.append({**entry(token, 0.0), "top_logprobs": alternatives[:top]})
    return {"content": content, "refusal": None}
