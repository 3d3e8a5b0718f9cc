"""An OpenAI chat request read for the native translations (Anthropic, Gemini): what they all
check the same way, checked in one place, each failure a 400 in OpenAI's envelope."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from ringside_server.errors import RingsideError

IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")


def bad(message: str, param: str = "messages") -> RingsideError:
    return RingsideError("invalid_request", message, param)


def text_of(content: Any, where: str) -> str:
    """A message's text: the string, or its text parts joined."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = (part for part in content if isinstance(part, dict) and part.get("type") == "text")
        return "".join(str(part.get("text", "")) for part in parts)
    if content is None:
        return ""
    raise bad(f"{where}.content must be a string or an array of parts.")


def image_url(part: dict[str, Any], where: str) -> tuple[str, str] | str:
    """(media type, base64 data) of a data URL, else the URL itself."""
    image = part.get("image_url")
    url = image.get("url") if isinstance(image, dict) else image
    if not isinstance(url, str):
        raise bad(f"{where}.image_url.url must be a string.")
    if not url.startswith("data:"):
        return url
    header, _, data = url.partition(",")
    media_type = header[5:].split(";")[0]
    if media_type not in IMAGE_TYPES or ";base64" not in header:
        raise bad(f"{where}: image data URLs must be base64 of {', '.join(IMAGE_TYPES)}.")
    return media_type, data


@dataclass(frozen=True, slots=True)
class ToolCall:
    id: str
    name: str
    arguments: Any  # parsed JSON


def tool_calls(value: Any, where: str) -> list[ToolCall]:
    if not isinstance(value, list):
        raise bad(f"{where}.tool_calls must be an array.")
    calls = []
    for index, call in enumerate(value):
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise bad(f"{where}.tool_calls[{index}] needs function.name.")
        try:
            arguments = orjson.loads(function.get("arguments") or "{}")
        except orjson.JSONDecodeError:
            raise bad(f"{where}.tool_calls[{index}].function.arguments must be JSON.") from None
        calls.append(ToolCall(str(call.get("id", "")), function["name"], arguments))
    return calls


@dataclass(frozen=True, slots=True)
class Function:
    name: str
    description: str
    parameters: dict[str, Any] | None


def functions(tools: Any) -> list[Function]:
    if not isinstance(tools, list):
        raise bad("tools must be an array.", "tools")
    found = []
    for index, tool in enumerate(tools):
        function = tool.get("function") if isinstance(tool, dict) and tool.get("type") == "function" else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise bad(f"tools[{index}] must be a function tool with a name.", "tools")
        parameters = function.get("parameters")
        found.append(
            Function(function["name"], str(function.get("description") or ""), parameters if parameters else None)
        )
    return found


def named_tool_choice(choice: Any) -> str | None:
    """The function a `tool_choice` object names; None for the string forms; raises otherwise."""
    if choice is None or choice in ("auto", "required", "none"):
        return None
    if isinstance(choice, dict) and isinstance((choice.get("function") or {}).get("name"), str):
        return str(choice["function"]["name"])
    raise bad("tool_choice must be auto, required, none or a named function.", "tool_choice")


def append_turn(turns: list[dict[str, Any]], role: str, key: str, items: list[dict[str, Any]]) -> None:
    """Consecutive turns of one role are merged (tool results after tool results, …)."""
    if turns and turns[-1]["role"] == role:
        turns[-1][key].extend(items)
    else:
        turns.append({"role": role, key: items})


def stop_sequences(stop: Any) -> list[str]:
    return [stop] if isinstance(stop, str) else [str(s) for s in stop] if isinstance(stop, list) else []


@dataclass(frozen=True, slots=True)
class Shape:
    """How one provider writes a conversation: its turn key, its assistant role, and its blocks."""

    key: str  # the turn's list of blocks: "content" (Anthropic, Bedrock), "parts" (Gemini)
    assistant: str  # "assistant", or Gemini's "model"
    text: Callable[[str], dict[str, Any]]
    image: Callable[[tuple[str, str] | str, str], dict[str, Any]]  # (media type, base64) or a URL
    tool_use: Callable[[ToolCall], dict[str, Any]]
    tool_result: Callable[[str, str, str], dict[str, Any]]  # call id, function name, result text
    provider: str


def blocks(content: Any, where: str, shape: Shape) -> list[dict[str, Any]]:
    """A message's content as the provider's blocks: text and images only."""
    if isinstance(content, str) or content is None:
        return [shape.text(content)] if content else []
    if not isinstance(content, list):
        raise bad(f"{where}.content must be a string or an array of parts.")
    converted: list[dict[str, Any]] = []
    for index, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text" and isinstance(part.get("text"), str):
            converted.append(shape.text(part["text"]))
        elif kind == "image_url":
            converted.append(shape.image(image_url(part, f"{where}.content[{index}]"), f"{where}.content[{index}]"))
        else:
            raise bad(f"{where}.content[{index}]: only text and image_url parts can go to {shape.provider}.")
    return converted


def conversation(messages: list[dict[str, Any]], shape: Shape) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(system blocks, turns): system/developer messages apart; user and tool results in user turns,
    consecutive turns of one role merged; tool results named after the call they answer."""
    system: list[dict[str, Any]] = []
    turns: list[dict[str, Any]] = []
    names: dict[str, str] = {}
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        role, content = message.get("role"), message.get("content")
        if role in ("system", "developer"):
            text = text_of(content, where)
            system += [shape.text(text)] if text else []
        elif role == "user":
            append_turn(turns, "user", shape.key, blocks(content, where, shape))
        elif role == "assistant":
            calls = tool_calls(message.get("tool_calls") or [], where)
            names.update((call.id, call.name) for call in calls)
            uses = [shape.tool_use(call) for call in calls]
            append_turn(turns, shape.assistant, shape.key, blocks(content, where, shape) + uses)
        elif role == "tool":
            call_id = str(message.get("tool_call_id", ""))
            result = shape.tool_result(call_id, names.get(call_id, call_id), text_of(content, where))
            append_turn(turns, "user", shape.key, [result])
        else:
            raise bad(f"{where}.role must be system, developer, user, assistant or tool.")
    return system, turns


def base64_only(image: tuple[str, str] | str, where: str, provider: str) -> tuple[str, str]:
    if isinstance(image, str):
        raise bad(f"{where}: {provider} takes images as base64 data URLs.")
    return image
