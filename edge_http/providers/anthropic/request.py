"""An OpenAI Chat Completions request body → an Anthropic Messages request body.

System and developer messages become `system`; tool results become `tool_result` blocks of a user
turn; assistant tool calls become `tool_use` blocks; images (data URLs or https URLs) become image
blocks. Anything Anthropic cannot express is a 400 in OpenAI's envelope before any call is made.
"""

from __future__ import annotations

from typing import Any

import orjson

from ringside.errors import RingsideError

IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
EFFORTS = ("low", "medium", "high", "xhigh", "max")


def _bad(message: str, param: str = "messages") -> RingsideError:
    return RingsideError("invalid_request", message, param)


def _text_of(content: Any, where: str) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = (part for part in content if isinstance(part, dict) and part.get("type") == "text")
        return "".join(str(part.get("text", "")) for part in parts)
    if content is None:
        return ""
    raise _bad(f"{where}.content must be a string or an array of parts.")


def _image(part: dict[str, Any], where: str) -> dict[str, Any]:
    image = part.get("image_url")
    url = image.get("url") if isinstance(image, dict) else image
    if not isinstance(url, str):
        raise _bad(f"{where}.image_url.url must be a string.")
    if url.startswith("data:"):
        header, _, data = url.partition(",")
        media_type = header[5:].split(";")[0]
        if media_type not in IMAGE_TYPES or ";base64" not in header:
            raise _bad(f"{where}: images must be base64 data URLs of {', '.join(IMAGE_TYPES)} or https URLs.")
        return {"type": "image", "source": {"type": "base64", "media_type": media_type, "data": data}}
    return {"type": "image", "source": {"type": "url", "url": url}}


def _parts(content: Any, where: str) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    if not isinstance(content, list):
        raise _bad(f"{where}.content must be a string or an array of parts.")
    blocks: list[dict[str, Any]] = []
    for index, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text" and isinstance(part.get("text"), str):
            blocks.append({"type": "text", "text": part["text"]})
        elif kind == "image_url":
            blocks.append(_image(part, f"{where}.content[{index}]"))
        else:
            raise _bad(f"{where}.content[{index}]: only text and image_url parts can go to Anthropic.")
    return blocks


def _tool_uses(tool_calls: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(tool_calls, list):
        raise _bad(f"{where}.tool_calls must be an array.")
    blocks = []
    for index, call in enumerate(tool_calls):
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise _bad(f"{where}.tool_calls[{index}] needs function.name.")
        try:
            arguments = orjson.loads(function.get("arguments") or "{}")
        except orjson.JSONDecodeError:
            raise _bad(f"{where}.tool_calls[{index}].function.arguments must be JSON.") from None
        blocks.append({"type": "tool_use", "id": str(call.get("id", "")), "name": function["name"], "input": arguments})
    return blocks


def _append(turns: list[dict[str, Any]], role: str, blocks: list[dict[str, Any]]) -> None:
    """Consecutive turns of one role are merged (tool results after tool results, …)."""
    if turns and turns[-1]["role"] == role:
        turns[-1]["content"].extend(blocks)
    else:
        turns.append({"role": role, "content": blocks})


def messages(openai_messages: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(system blocks, turns)."""
    system: list[dict[str, Any]] = []
    turns: list[dict[str, Any]] = []
    for index, message in enumerate(openai_messages):
        where = f"messages[{index}]"
        role = message.get("role")
        content = message.get("content")
        if role in ("system", "developer"):
            text = _text_of(content, where)
            if text:
                system.append({"type": "text", "text": text})
        elif role == "user":
            _append(turns, "user", _parts(content, where))
        elif role == "assistant":
            blocks = _parts(content, where) if content else []
            if message.get("tool_calls"):
                blocks += _tool_uses(message["tool_calls"], where)
            _append(turns, "assistant", blocks)
        elif role == "tool":
            result = {"type": "tool_result", "tool_use_id": str(message.get("tool_call_id", ""))}
            result["content"] = _text_of(content, where)
            _append(turns, "user", [result])
        else:
            raise _bad(f"{where}.role must be system, developer, user, assistant or tool.")
    return system, turns


def _tools(tools: Any) -> list[dict[str, Any]]:
    if not isinstance(tools, list):
        raise _bad("tools must be an array.", "tools")
    converted = []
    for index, tool in enumerate(tools):
        function = tool.get("function") if isinstance(tool, dict) and tool.get("type") == "function" else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise _bad(f"tools[{index}] must be a function tool with a name.", "tools")
        entry = {"name": function["name"], "input_schema": function.get("parameters") or {"type": "object"}}
        if function.get("description"):
            entry["description"] = function["description"]
        converted.append(entry)
    return converted


def _tool_choice(choice: Any, parallel: Any) -> dict[str, Any] | None:
    if choice is None and parallel is None:
        return None
    if choice in (None, "auto"):
        converted: dict[str, Any] = {"type": "auto"}
    elif choice == "required":
        converted = {"type": "any"}
    elif choice == "none":
        return {"type": "none"}
    elif isinstance(choice, dict) and isinstance((choice.get("function") or {}).get("name"), str):
        converted = {"type": "tool", "name": choice["function"]["name"]}
    else:
        raise _bad("tool_choice must be auto, required, none or a named function.", "tool_choice")
    if parallel is False:
        converted["disable_parallel_tool_use"] = True
    return converted


def translate(body: dict[str, Any], default_max_tokens: int) -> dict[str, Any]:
    """The Messages request for an OpenAI chat body (its `model` already the upstream's name)."""
    if (body.get("n") or 1) != 1:
        raise _bad("Anthropic models return one choice: n must be 1.", "n")
    system, turns = messages(body["messages"])
    request: dict[str, Any] = {
        "model": body["model"],
        "max_tokens": body.get("max_completion_tokens") or body.get("max_tokens") or default_max_tokens,
        "messages": turns,
    }
    if system:
        request["system"] = system
    for name in ("temperature", "top_p"):
        if body.get(name) is not None:
            request[name] = body[name]
    stop = body.get("stop")
    if stop:
        request["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
    if body.get("tools"):
        request["tools"] = _tools(body["tools"])
    choice = _tool_choice(body.get("tool_choice"), body.get("parallel_tool_calls"))
    if choice is not None and body.get("tools"):
        request["tool_choice"] = choice
    output: dict[str, Any] = {}
    response_format = body.get("response_format")
    if isinstance(response_format, dict) and response_format.get("type") == "json_schema":
        schema = (response_format.get("json_schema") or {}).get("schema")
        if isinstance(schema, dict):
            output["format"] = {"type": "json_schema", "schema": schema}
    if body.get("reasoning_effort") in EFFORTS:
        output["effort"] = body["reasoning_effort"]
    if output:
        request["output_config"] = output
    if isinstance(body.get("user"), str):
        request["metadata"] = {"user_id": body["user"][:256]}
    if body.get("stream"):
        request["stream"] = True
    return request
