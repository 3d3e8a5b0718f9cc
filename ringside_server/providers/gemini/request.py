"""An OpenAI Chat Completions body → a Gemini generateContent body (camelCase, as the google-genai
SDK sends it): system/developer messages → `systemInstruction`; user/assistant → `user`/`model`
turns of parts (text, `inlineData` images, `functionCall`); tool results → `functionResponse`
parts named after the call they answer."""

from __future__ import annotations

from typing import Any

from ringside_server.providers.openai_input import (
    Shape,
    base64_only,
    conversation,
    functions,
    named_tool_choice,
    stop_sequences,
)

MODES = {"auto": "AUTO", "required": "ANY", "none": "NONE"}


def _image(image: tuple[str, str] | str, where: str) -> dict[str, Any]:
    media_type, data = base64_only(image, where, "Gemini")
    return {"inlineData": {"mimeType": media_type, "data": data}}


SHAPE = Shape(
    key="parts",
    assistant="model",
    text=lambda text: {"text": text},
    image=_image,
    tool_use=lambda call: {"functionCall": {"id": call.id, "name": call.name, "args": call.arguments}},
    tool_result=lambda call_id, name, text: {
        "functionResponse": {"id": call_id, "name": name, "response": {"result": text}}
    },
    provider="Gemini",
)


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
    system, turns = conversation(body["messages"], SHAPE)
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
