"""The test model's request checks: the 400s OpenAI gives for a chat or embeddings body, with
OpenAI's `type`, `param` and `code` and (close to) its wording, so code that passes under a test key
passes live (API.md "Model calls": test keys answer like live ones). Bounds and field names come
from OpenAI's published OpenAPI document (github.com/openai/openai-openapi); the resolved model's
catalog capabilities decide what it accepts (tools, vision, JSON schema, reasoning models)."""

from __future__ import annotations

import re
from typing import Any

from ringside_server.providers.catalog.load import CatalogModel

# CreateChatCompletionRequest's properties (openai-openapi); anything else is refused as OpenAI does.
CHAT_FIELDS = frozenset(
    [
        "audio",
        "frequency_penalty",
        "function_call",
        "functions",
        "logit_bias",
        "logprobs",
        "max_completion_tokens",
        "max_tokens",
        "messages",
        "metadata",
        "modalities",
        "model",
        "moderation",
        "n",
        "parallel_tool_calls",
        "prediction",
        "presence_penalty",
        "prompt_cache_key",
        "prompt_cache_options",
        "prompt_cache_retention",
        "reasoning_effort",
        "response_format",
        "safety_identifier",
        "seed",
        "service_tier",
        "stop",
        "store",
        "stream",
        "stream_options",
        "temperature",
        "tool_choice",
        "tools",
        "top_logprobs",
        "top_p",
        "user",
        "verbosity",
        "web_search_options",
    ]
)
EMBEDDING_FIELDS = frozenset({"dimensions", "encoding_format", "input", "model", "user"})
MODERATION_FIELDS = frozenset({"input", "model"})
ROLES = ("system", "assistant", "user", "function", "tool", "developer")
FUNCTION_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
MAX_TOOLS = 128
MAX_STOP = 4
# (field, kind, minimum, maximum): OpenAI's numeric bounds for chat
BOUNDS: tuple[tuple[str, str, float, float], ...] = (
    ("temperature", "decimal", 0, 2),
    ("top_p", "decimal", 0, 1),
    ("presence_penalty", "decimal", -2, 2),
    ("frequency_penalty", "decimal", -2, 2),
    ("n", "integer", 1, 128),
    ("top_logprobs", "integer", 0, 20),
    ("seed", "integer", -(2**63), 2**63 - 1),
    ("max_tokens", "integer", 1, 2**31 - 1),
    ("max_completion_tokens", "integer", 1, 2**31 - 1),
)


class Refusal(Exception):
    """A 400 as OpenAI writes it: `invalid_request_error` with its message, param and code."""

    def __init__(self, message: str, param: str | None, code: str | None = "invalid_value") -> None:
        super().__init__(message)
        self.message, self.param, self.code = message, param, code

    def body(self) -> dict[str, Any]:
        return {
            "error": {"message": self.message, "type": "invalid_request_error", "param": self.param, "code": self.code}
        }


def _unknown_fields(body: dict[str, Any], known: frozenset[str]) -> None:
    for name in body:
        if name not in known:
            raise Refusal(f"Unrecognized request argument supplied: {name}", name, "unknown_parameter")


def _number(body: dict[str, Any], name: str, kind: str, low: float, high: float) -> None:
    value = body.get(name)
    if value is None:
        return
    numeric = isinstance(value, int) if kind == "integer" else isinstance(value, int | float)
    if isinstance(value, bool) or not numeric:
        got = {str: "a string", bool: "a boolean", list: "an array", dict: "an object"}.get(type(value), "a number")
        raise Refusal(
            f"Invalid type for '{name}': expected {'an' if kind == 'integer' else 'a'} {kind}, but got {got} instead.",
            name,
            "invalid_type",
        )
    if value < low:
        raise Refusal(
            f"Invalid '{name}': {kind} below minimum value. Expected a value >= {low:g}, but got {value} instead.",
            name,
            f"{kind}_below_min_value",
        )
    if value > high:
        raise Refusal(
            f"Invalid '{name}': {kind} above maximum value. Expected a value <= {high:g}, but got {value} instead.",
            name,
            f"{kind}_above_max_value",
        )


def _capable(model: CatalogModel | None, capability: str) -> bool:
    """A model whose catalog entry lists no capabilities is not judged (the provider's own models)."""
    return model is None or not model.capabilities or capability in model.capabilities


def check_chat(body: dict[str, Any], model: CatalogModel | None) -> None:
    """Raises the Refusal OpenAI would answer for this chat body on this model."""
    _unknown_fields(body, CHAT_FIELDS)
    for name, kind, low, high in BOUNDS:
        _number(body, name, kind, low, high)
    if "logprobs" in body and not isinstance(body["logprobs"], bool | None):
        raise Refusal(
            "Invalid type for 'logprobs': expected a boolean, but got another type instead.", "logprobs", "invalid_type"
        )
    if body.get("top_logprobs") is not None and not body.get("logprobs"):
        raise Refusal(
            "Invalid value for 'top_logprobs': 'logprobs' must be set to true when 'top_logprobs' is used.",
            "top_logprobs",
        )
    _check_stop(body.get("stop"))
    _check_messages(body["messages"], model)
    _check_tools(body)
    _check_response_format(body, model)
    _check_reasoning_model(body, model)


def _check_stop(stop: Any) -> None:
    if stop is None or isinstance(stop, str):
        return
    if not isinstance(stop, list) or not all(isinstance(item, str) for item in stop):
        raise Refusal("Invalid type for 'stop': expected a string or an array of strings.", "stop", "invalid_type")
    if len(stop) > MAX_STOP:
        raise Refusal(
            f"Invalid 'stop': array too long. Expected an array with maximum length {MAX_STOP}, "
            f"but got an array with length {len(stop)} instead.",
            "stop",
            "array_above_max_length",
        )


def _check_messages(messages: list[dict[str, Any]], model: CatalogModel | None) -> None:
    unanswered: dict[str, int] = {}  # a tool call id → the assistant message that made it
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        role = message.get("role")
        if role is None:
            raise Refusal(f"Missing required parameter: '{where}.role'.", f"{where}.role", "missing_required_parameter")
        if role not in ROLES:
            supported = ", ".join(f"'{r}'" for r in ROLES[:-1]) + f", and '{ROLES[-1]}'"
            raise Refusal(f"Invalid value: '{role}'. Supported values are: {supported}.", f"{where}.role")
        if unanswered and role != "tool":
            _unanswered(unanswered)
        if role in ("system", "user", "developer", "tool") and "content" not in message:
            raise Refusal(
                f"Missing required parameter: '{where}.content'.", f"{where}.content", "missing_required_parameter"
            )
        if role == "tool":
            call_id = message.get("tool_call_id")
            if not isinstance(call_id, str) or call_id not in unanswered:
                raise Refusal(
                    "Invalid parameter: messages with role 'tool' must be a response to a preceeding "
                    "message with 'tool_calls'.",
                    f"{where}.role",
                    None,
                )
            unanswered.pop(call_id)
        if role == "assistant":
            unanswered.update((call_id, index) for call_id in _tool_call_ids(message.get("tool_calls"), where))
        _check_parts(message.get("content"), where, model)
    if unanswered:
        _unanswered(unanswered)


def _unanswered(unanswered: dict[str, int]) -> None:
    index = min(unanswered.values())
    raise Refusal(
        "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
        "'tool_call_id'. The following tool_call_ids did not have response messages: " + ", ".join(unanswered),
        f"messages.[{index}].role",
        None,
    )


def _tool_call_ids(calls: Any, where: str) -> list[str]:
    """An assistant message's `tool_calls`, checked as OpenAI checks them: their ids."""
    if calls is None:
        return []
    if not isinstance(calls, list):
        raise Refusal(
            f"Invalid type for '{where}.tool_calls': expected an array of objects.",
            f"{where}.tool_calls",
            "invalid_type",
        )
    ids = []
    for position, call in enumerate(calls):
        at = f"{where}.tool_calls[{position}]"
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(call, dict) or not isinstance(call.get("id"), str) or not isinstance(function, dict):
            raise Refusal(
                f"Missing required parameter: '{at}.id' and '{at}.function'.", at, "missing_required_parameter"
            )
        if not isinstance(function.get("name"), str) or not isinstance(function.get("arguments"), str):
            raise Refusal(
                f"Invalid '{at}.function': expected a string 'name' and string 'arguments'.",
                f"{at}.function",
                "invalid_type",
            )
        ids.append(call["id"])
    return ids


def _check_parts(content: Any, where: str, model: CatalogModel | None) -> None:
    if content is None or isinstance(content, str):
        return
    if not isinstance(content, list):
        raise Refusal(
            f"Invalid type for '{where}.content': expected one of a string or array of objects.",
            f"{where}.content",
            "invalid_type",
        )
    for position, part in enumerate(content):
        if not isinstance(part, dict) or not isinstance(part.get("type"), str):
            raise Refusal(
                f"Missing required parameter: '{where}.content[{position}].type'.",
                f"{where}.content[{position}].type",
                "missing_required_parameter",
            )
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "image_url" and not _capable(model, "vision"):
            raise Refusal(
                "Invalid content type. image_url is only supported by certain models.",
                f"{where}.content.[{position}].type",
            )


def _check_tools(body: dict[str, Any]) -> None:
    tools = body.get("tools")
    choice = body.get("tool_choice")
    if tools is not None:
        if not isinstance(tools, list):
            raise Refusal("Invalid type for 'tools': expected an array of objects.", "tools", "invalid_type")
        if len(tools) > MAX_TOOLS:
            raise Refusal(
                f"Invalid 'tools': array too long. Expected an array with maximum length {MAX_TOOLS}, "
                f"but got an array with length {len(tools)} instead.",
                "tools",
                "array_above_max_length",
            )
        for index, tool in enumerate(tools):
            _check_tool(tool, f"tools[{index}]")
    if choice is None:
        return
    if not tools:
        raise Refusal(
            "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
            "tool_choice",
            None,
        )
    if isinstance(choice, str):
        if choice not in ("none", "auto", "required"):
            raise Refusal(
                f"Invalid value: '{choice}'. Supported values are: 'none', 'auto', and 'required'.", "tool_choice"
            )
        return
    function = choice.get("function") if isinstance(choice, dict) else None
    name = function.get("name") if isinstance(function, dict) else None
    if not isinstance(choice, dict) or choice.get("type") != "function" or not isinstance(name, str):
        raise Refusal(
            "Invalid 'tool_choice': expected 'none', 'auto', 'required' or an object naming a function "
            '({"type": "function", "function": {"name": ...}}).',
            "tool_choice",
        )
    if name not in {tool["function"]["name"] for tool in tools or []}:
        raise Refusal(f"Invalid value for 'tool_choice': function '{name}' is not among the 'tools'.", "tool_choice")


def _check_tool(tool: Any, where: str) -> None:
    if not isinstance(tool, dict) or tool.get("type") != "function":
        raise Refusal(f"Invalid value for '{where}.type': expected 'function'.", f"{where}.type")
    function = tool.get("function")
    if not isinstance(function, dict) or "name" not in function:
        raise Refusal(
            f"Missing required parameter: '{where}.function.name'.",
            f"{where}.function.name",
            "missing_required_parameter",
        )
    if not isinstance(function["name"], str) or not FUNCTION_NAME.match(function["name"]):
        raise Refusal(
            f"Invalid '{where}.function.name': string does not match pattern. Expected a string that "
            "matches the pattern '^[a-zA-Z0-9_-]+$'.",
            f"{where}.function.name",
        )
    parameters = function.get("parameters")
    if parameters is not None and not isinstance(parameters, dict):
        raise Refusal(
            f"Invalid type for '{where}.function.parameters': expected an object.",
            f"{where}.function.parameters",
            "invalid_type",
        )


def _check_response_format(body: dict[str, Any], model: CatalogModel | None) -> None:
    format_ = body.get("response_format")
    if format_ is None:
        return
    kind = format_.get("type") if isinstance(format_, dict) else None
    if kind not in ("text", "json_object", "json_schema"):
        raise Refusal(
            f"Invalid value: '{kind}'. Supported values are: 'text', 'json_object', and 'json_schema'.",
            "response_format.type",
        )
    if kind != "text" and not _capable(model, "json"):
        raise Refusal(
            f"Invalid parameter: 'response_format' of type '{kind}' is not supported with this model.",
            "response_format",
            None,
        )
    if kind == "json_object" and "json" not in str(body["messages"]).lower():
        raise Refusal(
            "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.",
            "messages",
            None,
        )
    if kind == "json_schema":
        schema = format_.get("json_schema")
        if not isinstance(schema, dict) or not isinstance(schema.get("name"), str):
            raise Refusal(
                "Missing required parameter: 'response_format.json_schema.name'.",
                "response_format.json_schema.name",
                "missing_required_parameter",
            )
        if "schema" in schema and not isinstance(schema["schema"], dict):
            raise Refusal(
                "Invalid type for 'response_format.json_schema.schema': expected an object.",
                "response_format.json_schema.schema",
                "invalid_type",
            )


def _check_reasoning_model(body: dict[str, Any], model: CatalogModel | None) -> None:
    """OpenAI's reasoning models take only the default sampling and `max_completion_tokens`."""
    if model is None or model.provider != "openai" or "reasoning" not in model.capabilities:
        return
    if "max_tokens" in body:
        raise Refusal(
            "Unsupported parameter: 'max_tokens' is not supported with this model. Use "
            "'max_completion_tokens' instead.",
            "max_tokens",
            "unsupported_parameter",
        )
    for name in ("temperature", "top_p"):
        if body.get(name) not in (None, 1):
            raise Refusal(
                f"Unsupported value: '{name}' does not support {body[name]} with this model. Only the "
                "default (1) value is supported.",
                name,
                "unsupported_value",
            )


def check_moderations(body: dict[str, Any]) -> None:
    """Raises the Refusal OpenAI would answer for this moderations body."""
    _unknown_fields(body, MODERATION_FIELDS)


def check_embeddings(body: dict[str, Any], model: CatalogModel | None, native_dimensions: int) -> None:
    """Raises the Refusal OpenAI would answer for this embeddings body on this model."""
    _unknown_fields(body, EMBEDDING_FIELDS)
    dimensions = body.get("dimensions")
    if dimensions is None:
        return
    name = model.name if model is not None else ""
    if model is not None and model.provider == "openai" and not name.startswith("text-embedding-3"):
        raise Refusal("This model does not support specifying dimensions.", "dimensions", None)
    _number(body, "dimensions", "integer", 1, native_dimensions)
