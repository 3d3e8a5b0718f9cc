"""What validating a chat request body costs the edge per call, in memory (no network).

Candidates, each from the request's bytes to a checked body (the edge needs the dict either way: it
relays unknown fields untouched):
  hand-written   main's `_validate` before issue 13, copied here as the reference
  typeddict      ringside_server/openai/types/chat.py: a TypedDict naming the fields + explicit checks
                 (what ships)
  pydantic       a pydantic v2 TypeAdapter over a TypedDict with the same bounds (extra fields
                 allowed), from orjson's dict (validate_python) and straight from bytes
                 (validate_json)
The body is a realistic chat: a system prompt, 12 turns of ~300 bytes, two tools (~6 KB).

    python -m bench.wire_validation [--calls 20000]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Annotated, Any, Required

import orjson
from pydantic import ConfigDict, Field, TypeAdapter
from typing_extensions import TypedDict

from edge_http.openai.jsonio import parse_object
from ringside_server.errors import RingsideError
from ringside_server.openai.types import chat


def realistic_body() -> bytes:
    turns: list[dict[str, Any]] = [{"role": "system", "content": "You are a careful assistant. " * 10}]
    for index in range(12):
        role = "user" if index % 2 == 0 else "assistant"
        turns.append({"role": role, "content": f"Turn {index}: " + "some words of a conversation " * 10})

    def tool(name: str) -> dict[str, Any]:
        parameters = {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}
        return {
            "type": "function",
            "function": {"name": name, "description": "Look a thing up.", "parameters": parameters},
        }

    body = {
        "model": "fc:openai/gpt-4o-mini",
        "messages": turns,
        "tools": [tool("lookup"), tool("fetch")],
        "temperature": 0.2,
        "max_completion_tokens": 512,
        "stream": True,
        "stream_options": {"include_usage": True},
        "user": "user_123",
    }
    return orjson.dumps(body)


def hand_written(raw: bytes) -> dict[str, Any]:
    """main's chat_completions._validate (before the types module), unchanged."""
    body = parse_object(raw)
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise RingsideError("invalid_request", "messages must be a non-empty array.", "messages")
    if len(messages) > 100_000:
        raise RingsideError("invalid_request", "messages may hold at most 100000 items.", "messages")
    if not all(isinstance(message, dict) for message in messages):
        raise RingsideError("invalid_request", "every item of messages must be an object.", "messages")
    if "stream" in body and not isinstance(body["stream"], bool | None):
        raise RingsideError("invalid_request", "stream must be a boolean.", "stream")
    options = body.get("stream_options")
    if options is not None and (not isinstance(options, dict) or not body.get("stream")):
        raise RingsideError("invalid_request", "stream_options must be an object.", "stream_options")
    for name, ceiling in (("max_completion_tokens", 10**9), ("max_tokens", 10**9), ("n", 128)):
        value = body.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= ceiling):
            raise RingsideError("invalid_request", f"{name} must be an integer between 1 and {ceiling}.", name)
    return body


def typed_dict(raw: bytes) -> dict[str, Any]:
    return dict(chat.validate(parse_object(raw)))


class _Options(TypedDict, total=False):
    __pydantic_config__ = ConfigDict(extra="allow", strict=True)  # type: ignore[misc]
    include_usage: bool


class _Chat(TypedDict, total=False):
    __pydantic_config__ = ConfigDict(extra="allow", strict=True)  # type: ignore[misc]
    model: str
    messages: Required[Annotated[list[dict[str, Any]], Field(min_length=1, max_length=100_000)]]
    stream: bool | None
    stream_options: _Options | None
    max_completion_tokens: Annotated[int, Field(ge=1, le=10**9)] | None
    max_tokens: Annotated[int, Field(ge=1, le=10**9)] | None
    n: Annotated[int, Field(ge=1, le=128)] | None
    user: str


ADAPTER = TypeAdapter(_Chat)


def pydantic_python(raw: bytes) -> dict[str, Any]:
    return dict(ADAPTER.validate_python(orjson.loads(raw)))


def pydantic_json(raw: bytes) -> dict[str, Any]:
    return dict(ADAPTER.validate_json(raw))


def measure(candidate: Callable[[bytes], dict[str, Any]], raw: bytes, calls: int) -> float:
    """µs per call, the best of three rounds (the machine is shared)."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for _ in range(calls):
            candidate(raw)
        best = min(best, (time.perf_counter() - started) / calls * 1e6)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=20_000)
    calls = min(parser.parse_args().calls, 1_000_000)
    raw = realistic_body()
    candidates = {
        "hand-written": hand_written,
        "typeddict (ships)": typed_dict,
        "pydantic validate_python": pydantic_python,
        "pydantic validate_json": pydantic_json,
    }
    reference = hand_written(raw)
    print(f"chat body: {len(raw)} bytes, {len(reference['messages'])} messages; {calls} calls, best of 3")
    for name, candidate in candidates.items():
        assert candidate(raw) == reference, name  # each one passes the body through unchanged
        print(f"{name:26s} {measure(candidate, raw, calls):7.2f} µs/call")


if __name__ == "__main__":
    main()
