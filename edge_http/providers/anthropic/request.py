"""An OpenAI Chat Completions request body → an Anthropic Messages request body.

System and developer messages become `system`; tool results become `tool_result` blocks of a user
turn; assistant tool calls become `tool_use` blocks; images (data URLs or https URLs) become image
blocks. Anything Anthropic cannot express is a 400 in OpenAI's envelope before any call is made.
"""

from __future__ import annotations

from typing import Any

from edge_http.providers.openai_input import (
    append_turn,
    bad,
    functions,
    image_url,
    named_tool_choice,
    stop_sequences,
    text_of,
    tool_calls,
)

EFFORTS = ("low", "medium", "high", "xhigh", "max")
CHOICES = {"auto": {"type": "auto"}, "required": {"type": "any"}, "none": {"type": "none"}}


def _blocks(content: Any, where: str) -> list[dict[str, Any]]:
    if isinstance(content, str) or content is None:
        return [{"type": "text", "text": content}] if content else []
    if not isinstance(content, list):
        raise bad(f"{where}.content must be a string or an array of parts.")
    blocks: list[dict[str, Any]] = []
    for index, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text" and isinstance(part.get("text"), str):
            blocks.append({"type": "text", "text": part["text"]})
        elif kind == "image_url":
            image = image_url(part, f"{where}.content[{index}]")
            source = {"type": "url", "url": image} if isinstance(image, str) else None
            source = source or {"type": "base64", "media_type": image[0], "data": image[1]}
            blocks.append({"type": "image", "source": source})
        else:
            raise bad(f"{where}.content[{index}]: only text and image_url parts can go to Anthropic.")
    return blocks


def messages(openai_messages: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(system blocks, turns)."""
    system: list[dict[str, Any]] = []
    turns: list[dict[str, Any]] = []
    for index, message in enumerate(openai_messages):
        where = f"messages[{index}]"
        role, content = message.get("role"), message.get("content")
        if role in ("system", "developer"):
            text = text_of(content, where)
            system += [{"type": "text", "text": text}] if text else []
        elif role == "user":
            append_turn(turns, "user", "content", _blocks(content, where))
        elif role == "assistant":
            uses = [
                {"type": "tool_use", "id": call.id, "name": call.name, "input": call.arguments}
                for call in tool_calls(message.get("tool_calls") or [], where)
            ]
            append_turn(turns, "assistant", "content", _blocks(content, where) + uses)
        elif role == "tool":
            result = {"type": "tool_result", "tool_use_id": str(message.get("tool_call_id", ""))}
            append_turn(turns, "user", "content", [{**result, "content": text_of(content, where)}])
        else:
            raise bad(f"{where}.role must be system, developer, user, assistant or tool.")
    return system, turns


def _tools(body: dict[str, Any]) -> dict[str, Any]:
    tools = []
    for function in functions(body["tools"]):
        tool: dict[str, Any] = {"name": function.name, "input_schema": function.parameters or {"type": "object"}}
        if function.description:
            tool["description"] = function.description
        tools.append(tool)
    fields: dict[str, Any] = {"tools": tools}
    choice, parallel = body.get("tool_choice"), body.get("parallel_tool_calls")
    named = named_tool_choice(choice)
    if choice is not None or parallel is not None:
        converted: dict[str, Any] = {"type": "tool", "name": named} if named else dict(CHOICES[choice or "auto"])
        if parallel is False and converted["type"] != "none":
            converted["disable_parallel_tool_use"] = True
        fields["tool_choice"] = converted
    return fields


def translate(body: dict[str, Any], default_max_tokens: int) -> dict[str, Any]:
    """The Messages request for an OpenAI chat body (its `model` already the upstream's name)."""
    if (body.get("n") or 1) != 1:
        raise bad("Anthropic models return one choice: n must be 1.", "n")
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
    if stop_sequences(body.get("stop")):
        request["stop_sequences"] = stop_sequences(body.get("stop"))
    if body.get("tools"):
        request.update(_tools(body))
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
