"""The Assistants API's request bodies, checked as OpenAI checks them (400 naming the parameter),
and the objects they make. Only what seed 002's snippet and the SDK's helpers use is served:
function and file_search tools; code_interpreter, images and attachments are refused by name."""

from __future__ import annotations

from typing import Any

from edge_http.rag.stores import metadata_of
from ringside_server.errors import RingsideError

MAX_NAME = 256
MAX_DESCRIPTION = 512
MAX_INSTRUCTIONS = 256_000
MAX_TOOLS = 128
MAX_THREAD_MESSAGES = 32  # messages given at thread create, OpenAI's
MAX_RUN_CONTEXT_MESSAGES = 100  # what a run's call is given at most (assistant_objects.MAX_THREAD_MESSAGES)
MAX_TEXT_CHARS = 256_000  # one message's text
MAX_TOOL_OUTPUT_CHARS = 512 * 1024
MAX_STORES = 1  # a thread's or assistant's file_search vector stores (OpenAI's)
MAX_SEARCH_RESULTS = 50
ASSISTANT_FIELDS = frozenset(
    {
        "model",
        "name",
        "description",
        "instructions",
        "tools",
        "tool_resources",
        "metadata",
        "temperature",
        "top_p",
        "response_format",
        "reasoning_effort",
    }
)
RUN_FIELDS = frozenset(
    {
        "assistant_id",
        "model",
        "instructions",
        "additional_instructions",
        "additional_messages",
        "tools",
        "metadata",
        "temperature",
        "top_p",
        "stream",
        "max_prompt_tokens",
        "max_completion_tokens",
        "truncation_strategy",
        "tool_choice",
        "parallel_tool_calls",
        "response_format",
        "reasoning_effort",
    }
)


def refuse(message: str, param: str) -> RingsideError:
    return RingsideError("invalid_request", message, param)


def _text(body: dict[str, Any], name: str, bound: int) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > bound:
        raise refuse(f"{name} must be a string of at most {bound} characters.", name)
    return value


def _number(body: dict[str, Any], name: str, low: float, high: float) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise refuse(f"{name} must be a number in {low}..{high}.", name)
    return value


def check_known(body: dict[str, Any], known: frozenset[str]) -> None:
    unknown = sorted(set(body) - known)
    if unknown:
        raise refuse(f"Unrecognized request argument supplied: {unknown[0][:100]}", unknown[0][:100])


def tools_of(value: Any, param: str = "tools") -> list[dict[str, Any]]:
    """function and file_search tools, as OpenAI shows them."""
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_TOOLS:
        raise refuse(f"{param} must be an array of at most {MAX_TOOLS} tools.", param)
    tools = []
    for index, tool in enumerate(value):
        kind = tool.get("type") if isinstance(tool, dict) else None
        if kind == "function":
            function = tool.get("function")
            if not isinstance(function, dict) or not isinstance(function.get("name"), str) or not function["name"]:
                raise refuse("A function tool needs function.name.", f"{param}[{index}].function")
            if function.get("parameters") is not None and not isinstance(function["parameters"], dict):
                raise refuse("function.parameters must be a JSON schema object.", f"{param}[{index}].function")
            tools.append({"type": "function", "function": function})
        elif kind == "file_search":
            options = tool.get("file_search") or {}
            limit = options.get("max_num_results") if isinstance(options, dict) else None
            if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 50):
                raise refuse("file_search.max_num_results must be an integer in 1..50.", f"{param}[{index}]")
            tools.append({"type": "file_search", "file_search": options if isinstance(options, dict) else {}})
        elif kind == "code_interpreter":
            raise refuse("code_interpreter is not served by Ringside; use function or file_search tools.", param)
        else:
            raise refuse("Each tool is a function or file_search tool.", f"{param}[{index}].type")
    return tools


def tool_resources_of(value: Any) -> dict[str, Any]:
    """`{file_search: {vector_store_ids}}` (code_interpreter's files are refused)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise refuse("tool_resources must be an object.", "tool_resources")
    if value.get("code_interpreter"):
        raise refuse("code_interpreter is not served by Ringside.", "tool_resources.code_interpreter")
    search = value.get("file_search")
    if search is None:
        return {}
    ids = search.get("vector_store_ids") if isinstance(search, dict) else None
    if search.get("vector_stores") if isinstance(search, dict) else False:
        raise refuse("Create the vector store first, then name it in vector_store_ids.", "tool_resources")
    if not isinstance(ids, list) or len(ids) > MAX_STORES or not all(isinstance(i, str) and i for i in ids):
        raise refuse(f"file_search.vector_store_ids holds at most {MAX_STORES} store id.", "tool_resources")
    return {"file_search": {"vector_store_ids": ids}}


def assistant_fields(body: dict[str, Any], creating: bool) -> dict[str, Any]:
    """The fields an assistant create (or modify) sets."""
    check_known(body, ASSISTANT_FIELDS)
    if creating and not isinstance(body.get("model"), str):
        raise refuse("model is required: a model ref such as fc:openai/gpt-4o-mini.", "model")
    fields: dict[str, Any] = {}
    if "model" in body:
        if not isinstance(body["model"], str) or not 1 <= len(body["model"]) <= 300:
            raise refuse("model must be a model ref.", "model")
        fields["model"] = body["model"]
    for name, bound in (("name", MAX_NAME), ("description", MAX_DESCRIPTION), ("instructions", MAX_INSTRUCTIONS)):
        if name in body or creating:
            fields[name] = _text(body, name, bound)
    if "tools" in body or creating:
        fields["tools"] = tools_of(body.get("tools"))
    if "tool_resources" in body or creating:
        fields["tool_resources"] = tool_resources_of(body.get("tool_resources"))
    if "metadata" in body or creating:
        fields["metadata"] = metadata_of(body.get("metadata"))
    for name, high in (("temperature", 2.0), ("top_p", 1.0)):
        if name in body or creating:
            fields[name] = _number(body, name, 0.0, high)
    if "response_format" in body or creating:
        fields["response_format"] = body.get("response_format") or "auto"
    return fields


def message_content(value: Any, param: str = "content") -> str:
    """A message's text: a string, or text parts (image parts are refused by name)."""
    if isinstance(value, str):
        text = value
    elif isinstance(value, list) and value:
        texts = []
        for part in value:
            if not isinstance(part, dict) or part.get("type") != "text" or not isinstance(part.get("text"), str):
                raise refuse("Ringside's threads hold text parts only (no images).", param)
            texts.append(part["text"])
        text = "\n".join(texts)
    else:
        raise refuse("content must be a string or an array of text parts.", param)
    if len(text) > MAX_TEXT_CHARS:
        raise refuse(f"A message's text is at most {MAX_TEXT_CHARS} characters.", param)
    return text


def message_fields(body: Any, param: str = "") -> tuple[str, str, dict[str, str]]:
    """(role, text, metadata) of a message create."""
    prefix = f"{param}." if param else ""
    if not isinstance(body, dict):
        raise refuse("A message is an object.", param or "body")
    check_known(body, frozenset({"role", "content", "attachments", "metadata"}))
    role = body.get("role")
    if role not in ("user", "assistant"):
        raise refuse("role must be user or assistant.", prefix + "role")
    if body.get("attachments"):
        raise refuse(
            "attachments are not served; put the file in a vector store for file_search.", prefix + "attachments"
        )
    return role, message_content(body.get("content"), prefix + "content"), metadata_of(body.get("metadata"))


def thread_fields(body: dict[str, Any]) -> tuple[list[tuple[str, str, dict[str, str]]], dict[str, Any], dict[str, str]]:
    """(messages, tool_resources, metadata) of a thread create."""
    check_known(body, frozenset({"messages", "tool_resources", "metadata"}))
    messages = body.get("messages") or []
    if not isinstance(messages, list) or len(messages) > MAX_THREAD_MESSAGES:
        raise refuse(f"messages holds at most {MAX_THREAD_MESSAGES} messages.", "messages")
    return (
        [message_fields(m, f"messages[{i}]") for i, m in enumerate(messages)],
        tool_resources_of(body.get("tool_resources")),
        metadata_of(body.get("metadata")),
    )


def run_fields(body: dict[str, Any]) -> dict[str, Any]:
    """A run create's checked fields (`assistant_id` is looked up by the handler)."""
    check_known(body, RUN_FIELDS)
    if not isinstance(body.get("assistant_id"), str) or not 1 <= len(body["assistant_id"]) <= 64:
        raise refuse("assistant_id is required.", "assistant_id")
    fields: dict[str, Any] = {"assistant_id": body["assistant_id"]}
    if body.get("model") is not None and (not isinstance(body["model"], str) or len(body["model"]) > 300):
        raise refuse("model must be a model ref.", "model")
    fields["model"] = body.get("model")
    fields["instructions"] = _text(body, "instructions", MAX_INSTRUCTIONS)
    fields["additional_instructions"] = _text(body, "additional_instructions", MAX_INSTRUCTIONS)
    extra = body.get("additional_messages") or []
    if not isinstance(extra, list) or len(extra) > MAX_THREAD_MESSAGES:
        raise refuse(f"additional_messages holds at most {MAX_THREAD_MESSAGES}.", "additional_messages")
    fields["additional_messages"] = [message_fields(m, f"additional_messages[{i}]") for i, m in enumerate(extra)]
    fields["tools"] = tools_of(body["tools"]) if body.get("tools") is not None else None
    fields["metadata"] = metadata_of(body.get("metadata"))
    fields["temperature"] = _number(body, "temperature", 0.0, 2.0)
    fields["top_p"] = _number(body, "top_p", 0.0, 1.0)
    for name in ("max_prompt_tokens", "max_completion_tokens"):
        value = body.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 256 <= value <= 10**7):
            raise refuse(f"{name} must be an integer of at least 256.", name)
        fields[name] = value
    choice = body.get("tool_choice")
    if choice is not None and choice not in ("none", "auto", "required") and not isinstance(choice, dict):
        raise refuse("tool_choice must be none, auto, required or a named tool.", "tool_choice")
    fields["tool_choice"] = choice or "auto"
    if body.get("stream") is not None and not isinstance(body["stream"], bool):
        raise refuse("stream must be a boolean.", "stream")
    if body.get("parallel_tool_calls") is not None and not isinstance(body["parallel_tool_calls"], bool):
        raise refuse("parallel_tool_calls must be a boolean.", "parallel_tool_calls")
    fields["parallel_tool_calls"] = body.get("parallel_tool_calls", True)
    fields["response_format"] = body.get("response_format") or "auto"
    fields["truncation_strategy"] = truncation_of(body.get("truncation_strategy"))
    return fields


def truncation_of(value: Any) -> dict[str, Any]:
    """`truncation_strategy`: `auto` (the thread's newest messages a run's call can hold: the worker's
    page) or `last_messages` (only the newest N messages of the thread go to the model)."""
    if value is None:
        return {"type": "auto", "last_messages": None}
    if not isinstance(value, dict) or value.get("type") not in ("auto", "last_messages"):
        raise refuse("truncation_strategy.type must be auto or last_messages.", "truncation_strategy.type")
    last = value.get("last_messages")
    if value["type"] == "auto" and last is None:
        return {"type": "auto", "last_messages": None}
    if isinstance(last, bool) or not isinstance(last, int) or not 1 <= last <= MAX_RUN_CONTEXT_MESSAGES:
        raise refuse(
            f"truncation_strategy.last_messages must be an integer 1..{MAX_RUN_CONTEXT_MESSAGES}.",
            "truncation_strategy.last_messages",
        )
    return {"type": value["type"], "last_messages": last}


def tool_outputs_of(body: dict[str, Any], asked: list[str]) -> list[dict[str, str]]:
    """`tool_outputs`: one output per tool call the run asked for, in any order."""
    check_known(body, frozenset({"tool_outputs", "stream"}))
    outputs = body.get("tool_outputs")
    if not isinstance(outputs, list) or not outputs or len(outputs) > MAX_TOOLS:
        raise refuse("tool_outputs must be a non-empty array.", "tool_outputs")
    given: dict[str, str] = {}
    for index, output in enumerate(outputs):
        call = output.get("tool_call_id") if isinstance(output, dict) else None
        text = output.get("output", "") if isinstance(output, dict) else None
        if call not in asked:
            raise refuse(f"No tool call {str(call)[:64]!r} is waiting for an output.", f"tool_outputs[{index}]")
        if not isinstance(text, str) or len(text) > MAX_TOOL_OUTPUT_CHARS:
            raise refuse("output must be a string of at most 512 KiB.", f"tool_outputs[{index}].output")
        given[call] = text
    missing = [call for call in asked if call not in given]
    if missing:
        raise refuse(f"Expected tool outputs for call ids {missing}, got {list(given)}.", "tool_outputs")
    return [{"tool_call_id": call, "output": given[call]} for call in asked]
