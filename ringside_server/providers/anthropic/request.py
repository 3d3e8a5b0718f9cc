"""An OpenAI Chat Completions request body → an Anthropic Messages request body.

System and developer messages become `system`; tool results become `tool_result` blocks of a user
turn; assistant tool calls become `tool_use` blocks; images (data URLs or https URLs) become image
blocks. Anything Anthropic cannot express is a 400 in OpenAI's envelope before any call is made.
"""

from __future__ import annotations

from typing import Any

from ringside_server.providers.openai_input import (
    Shape,
    bad,
    conversation,
    functions,
    named_tool_choice,
    stop_sequences,
)

EFFORTS = ("low", "medium", "high", "xhigh", "max")
CHOICES = {"auto": {"type": "auto"}, "required": {"type": "any"}, "none": {"type": "none"}}


def _image(image: tuple[str, str] | str, where: str) -> dict[str, Any]:
    if isinstance(image, str):
        return {"type": "image", "source": {"type": "url", "url": image}}
    return {"type": "image", "source": {"type": "base64", "media_type": image[0], "data": image[1]}}


SHAPE = Shape(
    key="content",
    assistant="assistant",
    text=lambda text: {"type": "text", "text": text},
    image=_image,
    tool_use=lambda call: {"type": "tool_use", "id": call.id, "name": call.name, "input": call.arguments},
    tool_result=lambda call_id, _name, text: {"type": "tool_result", "tool_use_id": call_id, "content": text},
    provider="Anthropic",
)


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
    system, turns = conversation(body["messages"], SHAPE)
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
