"""An Anthropic Messages request body → the OpenAI Chat Completions body a metered call runs.

`system` becomes a system message; text and image blocks become content parts; an assistant's
`tool_use` blocks become `tool_calls`; a user's `tool_result` blocks become `tool` messages (placed
first, as OpenAI wants them right after the assistant's calls); `thinking` asks for a reasoning
effort; earlier thinking blocks are dropped (no OpenAI provider takes them back). Anything that
cannot be expressed is a 400 before any call is made.
"""

from __future__ import annotations

from typing import Any

import orjson

from ringside_server.errors import RingsideError

MAX_MESSAGES = 100_000
MAX_TOOLS = 1_000
MAX_OUTPUT_TOKENS = 10**9
ROLES = ("user", "assistant")
DROPPED_BLOCKS = ("thinking", "redacted_thinking")
# thinking.budget_tokens below each bound → the reasoning effort asked of the provider
EFFORT_BOUNDS = ((4_096, "low"), (16_384, "medium"))


def bad(message: str, param: str) -> RingsideError:
    return RingsideError("invalid_request", message, param)


def model_ref(value: object) -> object:
    """A bare name on this route is Anthropic's (API.md "Model calls", exception 3)."""
    if isinstance(value, str) and value and ":" not in value:
        return "fc:anthropic/" + value
    return value


def _text(block: dict[str, Any], where: str) -> str:
    text = block.get("text")
    if not isinstance(text, str):
        raise bad(f"{where}.text must be a string.", "messages")
    return text


def _image(block: dict[str, Any], where: str) -> dict[str, Any]:
    source = block.get("source")
    if not isinstance(source, dict):
        raise bad(f"{where}.source must be an object.", "messages")
    if source.get("type") == "base64" and isinstance(source.get("data"), str):
        url = f"data:{source.get('media_type', 'image/png')};base64,{source['data']}"
    elif source.get("type") == "url" and isinstance(source.get("url"), str):
        url = source["url"]
    else:
        raise bad(f"{where}.source must be base64 data or a url.", "messages")
    return {"type": "image_url", "image_url": {"url": url}}


def _result_text(content: Any, where: str) -> str | list[dict[str, Any]]:
    if content is None or isinstance(content, str):
        return content or ""
    if not isinstance(content, list):
        raise bad(f"{where}.content must be a string or an array of blocks.", "messages")
    parts = [_part(block, f"{where}.content[{i}]") for i, block in enumerate(content)]
    if all(part["type"] == "text" for part in parts):
        return "".join(part["text"] for part in parts)
    return parts


def _part(block: Any, where: str) -> dict[str, Any]:
    if not isinstance(block, dict):
        raise bad(f"{where} must be an object.", "messages")
    if block.get("type") == "text":
        return {"type": "text", "text": _text(block, where)}
    if block.get("type") == "image":
        return _image(block, where)
    raise bad(f"{where}: blocks of type '{str(block.get('type'))[:40]}' cannot be sent through this route.", "messages")


def _turn(message: Any, index: int) -> list[dict[str, Any]]:
    """One Anthropic turn as OpenAI messages (a user turn with tool results: the tool messages first)."""
    where = f"messages[{index}]"
    if not isinstance(message, dict) or message.get("role") not in ROLES:
        raise bad(f"{where} must be an object with role user or assistant.", "messages")
    role, content = message["role"], message.get("content")
    if isinstance(content, str):
        return [{"role": role, "content": content}]
    if not isinstance(content, list):
        raise bad(f"{where}.content must be a string or an array of blocks.", "messages")
    parts: list[dict[str, Any]] = []
    calls: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    for position, block in enumerate(content):
        at = f"{where}.content[{position}]"
        kind = block.get("type") if isinstance(block, dict) else None
        if kind in DROPPED_BLOCKS:
            continue
        if kind == "tool_use" and role == "assistant":
            arguments = orjson.dumps(block.get("input") or {}).decode()
            function = {"name": str(block.get("name", "")), "arguments": arguments}
            calls.append({"id": str(block.get("id", "")), "type": "function", "function": function})
        elif kind == "tool_result" and role == "user":
            result = _result_text(block.get("content"), at)
            results.append({"role": "tool", "tool_call_id": str(block.get("tool_use_id", "")), "content": result})
        else:
            parts.append(_part(block, at))
    turn: list[dict[str, Any]] = list(results)
    if role == "assistant":
        text = "".join(part.get("text", "") for part in parts)
        if text or calls:
            reply: dict[str, Any] = {"role": "assistant", "content": text or None}
            if calls:
                reply["tool_calls"] = calls
            turn.append(reply)
    elif parts:
        turn.append({"role": "user", "content": parts})
    return turn


def _system(system: Any) -> list[dict[str, Any]]:
    if system is None:
        return []
    if isinstance(system, str):
        return [{"role": "system", "content": system}] if system else []
    if not isinstance(system, list):
        raise bad("system must be a string or an array of text blocks.", "system")
    texts = [_text(block, f"system[{i}]") if isinstance(block, dict) else "" for i, block in enumerate(system)]
    return [{"role": "system", "content": "\n\n".join(texts)}] if texts else []


def _tools(tools: Any) -> list[dict[str, Any]]:
    if not isinstance(tools, list) or len(tools) > MAX_TOOLS:
        raise bad(f"tools must be an array of at most {MAX_TOOLS} tools.", "tools")
    converted = []
    for index, tool in enumerate(tools):
        if not isinstance(tool, dict) or not isinstance(tool.get("name"), str):
            raise bad(f"tools[{index}] must be an object with a name.", "tools")
        if not isinstance(tool.get("input_schema"), dict):
            raise bad(
                f"tools[{index}]: only client tools with an input_schema can be sent through this route.", "tools"
            )
        function: dict[str, Any] = {"name": tool["name"], "parameters": tool["input_schema"]}
        if isinstance(tool.get("description"), str):
            function["description"] = tool["description"]
        converted.append({"type": "function", "function": function})
    return converted


def _tool_choice(choice: Any, chat: dict[str, Any]) -> None:
    if not isinstance(choice, dict):
        raise bad("tool_choice must be an object.", "tool_choice")
    kind = choice.get("type")
    if kind == "tool" and isinstance(choice.get("name"), str):
        chat["tool_choice"] = {"type": "function", "function": {"name": choice["name"]}}
    elif kind in ("auto", "any", "none"):
        chat["tool_choice"] = {"auto": "auto", "any": "required", "none": "none"}[kind]
    else:
        raise bad("tool_choice.type must be auto, any, tool or none.", "tool_choice")
    if choice.get("disable_parallel_tool_use") is True and chat.get("tools"):
        chat["parallel_tool_calls"] = False


def _effort(thinking: Any) -> str | None:
    if not isinstance(thinking, dict):
        raise bad("thinking must be an object.", "thinking")
    if thinking.get("type") != "enabled":
        return None
    budget = thinking.get("budget_tokens")
    if isinstance(budget, bool) or not isinstance(budget, int) or budget < 1:
        raise bad("thinking.budget_tokens must be a positive integer.", "thinking.budget_tokens")
    return next((effort for bound, effort in EFFORT_BOUNDS if budget < bound), "high")


def max_tokens(body: dict[str, Any]) -> int:
    value = body.get("max_tokens")
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_OUTPUT_TOKENS:
        raise bad(f"max_tokens: Field required, an integer between 1 and {MAX_OUTPUT_TOKENS}.", "max_tokens")
    return value


def messages_of(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The conversation as OpenAI messages (what count_tokens counts, and what a call sends)."""
    turns = body.get("messages")
    if not isinstance(turns, list) or not turns or len(turns) > MAX_MESSAGES:
        raise bad(f"messages must be a non-empty array of at most {MAX_MESSAGES} turns.", "messages")
    converted = _system(body.get("system"))
    for index, message in enumerate(turns):
        converted += _turn(message, index)
    return converted


def chat_body(body: dict[str, Any], with_max_tokens: bool = True) -> dict[str, Any]:
    """The OpenAI chat request for an Anthropic Messages request (its `model` as a Ringside ref)."""
    chat: dict[str, Any] = {"model": model_ref(body.get("model")), "messages": messages_of(body)}
    if with_max_tokens:
        chat["max_completion_tokens"] = max_tokens(body)
    for name in ("temperature", "top_p"):
        if body.get(name) is not None:
            chat[name] = body[name]
    stops = body.get("stop_sequences")
    if stops is not None:
        if not isinstance(stops, list) or not all(isinstance(stop, str) for stop in stops):
            raise bad("stop_sequences must be an array of strings.", "stop_sequences")
        if stops:
            chat["stop"] = stops
    if body.get("tools"):
        chat["tools"] = _tools(body["tools"])
    if body.get("tool_choice") is not None:
        _tool_choice(body["tool_choice"], chat)
    if body.get("thinking") is not None and (effort := _effort(body["thinking"])) is not None:
        chat["reasoning_effort"] = effort
    user = (body.get("metadata") or {}).get("user_id") if isinstance(body.get("metadata"), dict) else None
    if isinstance(user, str) and user:
        chat["user"] = user  # attribution step 2, and relayed upstream
    if "stream" in body and not isinstance(body["stream"], bool | None):
        raise bad("stream must be a boolean.", "stream")
    if body.get("stream"):
        chat["stream"] = True
        chat["stream_options"] = {"include_usage": True}  # message_delta carries the usage
    return chat
