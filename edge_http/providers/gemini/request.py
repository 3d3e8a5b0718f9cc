"""An OpenAI Chat Completions body → a Gemini generateContent body (camelCase, as the google-genai
SDK sends it): system/developer messages → `systemInstruction`; user/assistant → `user`/`model`
turns of parts (text, `inlineData` images, `functionCall`); tool results → `functionResponse`
parts named after the call they answer."""

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

MODES = {"auto": "AUTO", "required": "ANY", "none": "NONE"}


def _parts(content: Any, where: str) -> list[dict[str, Any]]:
    if isinstance(content, str) or content is None:
        return [{"text": content}] if content else []
    if not isinstance(content, list):
        raise bad(f"{where}.content must be a string or an array of parts.")
    parts: list[dict[str, Any]] = []
    for index, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text" and isinstance(part.get("text"), str):
            parts.append({"text": part["text"]})
        elif kind == "image_url":
            image = image_url(part, f"{where}.content[{index}]")
            if isinstance(image, str):
                raise bad(f"{where}.content[{index}]: Gemini takes images as base64 data URLs.")
            parts.append({"inlineData": {"mimeType": image[0], "data": image[1]}})
        else:
            raise bad(f"{where}.content[{index}]: only text and image_url parts can go to Gemini.")
    return parts


def contents(messages: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(system parts, turns)."""
    system: list[dict[str, Any]] = []
    turns: list[dict[str, Any]] = []
    names: dict[str, str] = {}  # tool call id → function name, for the results that answer it
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        role, content = message.get("role"), message.get("content")
        if role in ("system", "developer"):
            text = text_of(content, where)
            system += [{"text": text}] if text else []
        elif role == "user":
            append_turn(turns, "user", "parts", _parts(content, where))
        elif role == "assistant":
            calls = tool_calls(message.get("tool_calls") or [], where)
            names.update((call.id, call.name) for call in calls)
            parts = [{"functionCall": {"id": call.id, "name": call.name, "args": call.arguments}} for call in calls]
            append_turn(turns, "model", "parts", _parts(content, where) + parts)
        elif role == "tool":
            call_id = str(message.get("tool_call_id", ""))
            result = {
                "id": call_id,
                "name": names.get(call_id, call_id),
                "response": {"result": text_of(content, where)},
            }
            append_turn(turns, "user", "parts", [{"functionResponse": result}])
        else:
            raise bad(f"{where}.role must be system, developer, user, assistant or tool.")
    return system, turns


def _tools(body: dict[str, Any]) -> dict[str, Any]:
    declarations = []
    for function in functions(body["tools"]):
        declaration: dict[str, Any] = {"name": function.name, "description": function.description}
        if function.parameters:
            declaration["parameters"] = function.parameters
        declarations.append(declaration)
    fields: dict[str, Any] = {"tools": [{"functionDeclarations": declarations}]}
    choice = body.get("tool_choice")
    named = named_tool_choice(choice)
    if named:
        fields["toolConfig"] = {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": [named]}}
    elif choice is not None:
        fields["toolConfig"] = {"functionCallingConfig": {"mode": MODES[choice]}}
    return fields


def translate(body: dict[str, Any]) -> dict[str, Any]:
    """The generateContent body for an OpenAI chat body (the model goes in the URL)."""
    system, turns = contents(body["messages"])
    request: dict[str, Any] = {"contents": turns}
    if system:
        request["systemInstruction"] = {"parts": system}
    config: dict[str, Any] = {}
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    if limit:
        config["maxOutputTokens"] = limit
    for ours, theirs in (("temperature", "temperature"), ("top_p", "topP"), ("n", "candidateCount")):
        if body.get(ours) is not None:
            config[theirs] = body[ours]
    if stop_sequences(body.get("stop")):
        config["stopSequences"] = stop_sequences(body.get("stop"))
    response_format = body.get("response_format")
    if isinstance(response_format, dict) and response_format.get("type") in ("json_object", "json_schema"):
        config["responseMimeType"] = "application/json"
        schema = (response_format.get("json_schema") or {}).get("schema")
        if isinstance(schema, dict):
            config["responseJsonSchema"] = schema
    if config:
        request["generationConfig"] = config
    if body.get("tools"):
        request.update(_tools(body))
    return request
