"""The Responses API over chat completions: a `POST /v1/responses` body becomes a chat completions
body, and the chat answer becomes a Response object (responses_stream.py does the same for a stream).

Every provider that serves chat therefore serves Responses, and the metering sees one format. What
a chat model cannot express is refused before anything is held (built-in tools other than
functions, `background`, stored prompts), never silently dropped.
"""

from __future__ import annotations

from typing import Any

from ringside_server.errors import RingsideError
from ringside_server.ids import new_id

# Fields of OpenAI's request Ringside reads or relays; anything else is 400, as OpenAI answers it.
FIELDS = frozenset(
    {
        "model",
        "input",
        "instructions",
        "tools",
        "tool_choice",
        "text",
        "max_output_tokens",
        "temperature",
        "top_p",
        "metadata",
        "store",
        "previous_response_id",
        "include",
        "stream",
        "stream_options",
        "parallel_tool_calls",
        "user",
        "reasoning",
        "truncation",
        "service_tier",
        "background",
        "top_logprobs",
        "prompt_cache_key",
        "safety_identifier",
        "max_tool_calls",
    }
)
ROLES = {"user", "assistant", "system", "developer"}
MAX_ITEMS = 100_000
MAX_TOOLS = 128
MAX_OUTPUT_TOKENS = 10**9
DEFAULT_SEARCH_RESULTS = 10  # file_search's max_num_results when not given (OpenAI's)
# Sampling and the like, relayed to chat under the same name.
RELAYED = ("temperature", "top_p", "parallel_tool_calls", "user", "service_tier", "top_logprobs", "prompt_cache_key")


def refuse(message: str, param: str) -> RingsideError:
    return RingsideError("invalid_request", message, param)


def check(body: dict[str, Any]) -> None:
    """OpenAI's refusals for a body Ringside cannot serve as asked, before anything is held."""
    unknown = sorted(set(body) - FIELDS)
    if unknown:
        raise refuse(f"Unrecognized request argument supplied: {unknown[0][:100]}", unknown[0][:100])
    if not isinstance(body.get("model"), str):
        raise refuse("model must be a string.", "model")
    if body.get("background"):
        raise refuse("background responses are not supported by Ringside; omit background.", "background")
    for name in ("store", "stream", "parallel_tool_calls"):
        if name in body and not isinstance(body[name], bool | None):
            raise refuse(f"{name} must be a boolean.", name)
    if body.get("instructions") is not None and not isinstance(body["instructions"], str):
        raise refuse("instructions must be a string.", "instructions")
    previous = body.get("previous_response_id")
    if previous is not None and (not isinstance(previous, str) or not 1 <= len(previous) <= 64):
        raise refuse("previous_response_id must be a response id.", "previous_response_id")
    limit = body.get("max_output_tokens")
    if limit is not None and (
        isinstance(limit, bool) or not isinstance(limit, int) or not 16 <= limit <= MAX_OUTPUT_TOKENS
    ):
        raise refuse("max_output_tokens must be an integer of at least 16.", "max_output_tokens")
    include = body.get("include")
    if include is not None and (not isinstance(include, list) or not all(isinstance(i, str) for i in include)):
        raise refuse("include must be an array of strings.", "include")
    if body.get("stream_options") is not None and not body.get("stream"):
        raise refuse("stream_options is only allowed with stream: true.", "stream_options")
    metadata = body.get("metadata")
    if metadata is not None and (
        not isinstance(metadata, dict)
        or len(metadata) > 16
        or not all(
            isinstance(k, str) and len(k) <= 64 and isinstance(v, str) and len(v) <= 512 for k, v in metadata.items()
        )
    ):
        raise refuse("metadata holds at most 16 string pairs (keys ≤ 64, values ≤ 512 characters).", "metadata")


def input_items(value: Any) -> list[dict[str, Any]]:
    """The request's `input` as a list of items, each with an id (the input_items list shows them)."""
    if isinstance(value, str):
        return [{"id": new_id("msg"), "type": "message", "role": "user", "content": [_text("input_text", value)]}]
    if not isinstance(value, list) or not value:
        raise refuse("input must be a string or a non-empty array of input items.", "input")
    if len(value) > MAX_ITEMS:
        raise refuse(f"input may hold at most {MAX_ITEMS} items.", "input")
    items = []
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise refuse("every input item must be an object.", f"input[{index}]")
        kind = item.get("type", "message")
        if kind == "message":
            items.append(_message_item(item, index))
        elif kind == "function_call":
            _strings(item, ("call_id", "name", "arguments"), index)
            items.append({"id": item.get("id") or new_id("fc"), **item, "status": item.get("status", "completed")})
        elif kind == "function_call_output":
            _strings(item, ("call_id",), index)
            if not isinstance(item.get("output"), str | list):
                raise refuse("output must be a string.", f"input[{index}].output")
            items.append({"id": item.get("id") or new_id("fco"), **item})
        elif kind == "reasoning":
            continue  # a reasoning item a caller replays: chat has no place for it
        else:
            raise refuse(f"input items of type '{str(kind)[:50]}' are not supported.", f"input[{index}].type")
    return items


def _text(kind: str, text: str) -> dict[str, Any]:
    part: dict[str, Any] = {"type": kind, "text": text}
    if kind == "output_text":
        part["annotations"] = []
        part["logprobs"] = []
    return part


def _strings(item: dict[str, Any], names: tuple[str, ...], index: int) -> None:
    for name in names:
        if not isinstance(item.get(name), str):
            raise refuse(f"{name} must be a string.", f"input[{index}].{name}")


def _message_item(item: dict[str, Any], index: int) -> dict[str, Any]:
    role = item.get("role")
    if role not in ROLES:
        raise refuse("role must be one of user, assistant, system, developer.", f"input[{index}].role")
    content = item.get("content")
    if isinstance(content, str):
        parts = [_text("output_text" if role == "assistant" else "input_text", content)]
    elif isinstance(content, list):
        parts = content
        for part in parts:
            if not isinstance(part, dict) or part.get("type") not in PART_TYPES:
                raise refuse(
                    "content parts must be input_text, input_image, input_file, output_text or refusal.",
                    f"input[{index}].content",
                )
    else:
        raise refuse("content must be a string or an array of content parts.", f"input[{index}].content")
    out = {"id": item.get("id") or new_id("msg"), "type": "message", "role": role, "content": parts}
    if role == "assistant":
        out["status"] = item.get("status", "completed")
    return out


PART_TYPES = {"input_text", "input_image", "input_file", "output_text", "refusal"}


def _chat_part(part: dict[str, Any]) -> dict[str, Any]:
    kind = part["type"]
    if kind in ("input_text", "output_text"):
        return {"type": "text", "text": str(part.get("text", ""))}
    if kind == "refusal":
        return {"type": "text", "text": str(part.get("refusal", ""))}
    if kind == "input_image":
        url = part.get("image_url")
        if not isinstance(url, str):
            raise refuse(
                "input_image needs image_url (a URL or a data URL); file_id images are not supported.", "input"
            )
        return {"type": "image_url", "image_url": {"url": url, "detail": part.get("detail") or "auto"}}
    data = part.get("file_data")
    if not isinstance(data, str):
        raise refuse("input_file needs file_data (a data URL); file_id and file_url are not supported.", "input")
    return {"type": "file", "file": {"file_data": data, "filename": str(part.get("filename") or "file")}}


def messages_of(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Chat messages for a list of input and output items, in order; consecutive function calls
    become one assistant message's tool_calls, as chat requires."""
    messages: list[dict[str, Any]] = []
    for item in items:
        kind = item.get("type", "message")
        if kind == "message":
            role = "system" if item["role"] == "developer" else item["role"]
            parts = [_chat_part(part) for part in item["content"]]
            if role in ("assistant", "system") or all(p["type"] == "text" for p in parts):
                # assistant and system content is text only in chat; a plain string reads everywhere
                messages.append({"role": role, "content": "".join(p.get("text", "") for p in parts)})
            else:
                messages.append({"role": role, "content": parts})
        elif kind == "function_call":
            call = {
                "id": item["call_id"],
                "type": "function",
                "function": {"name": item["name"], "arguments": item["arguments"]},
            }
            last = messages[-1] if messages else None
            if last is not None and last["role"] == "assistant" and "tool_calls" in last:
                last["tool_calls"].append(call)
            else:
                messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif kind == "function_call_output":
            output = item["output"]
            text = (
                output
                if isinstance(output, str)
                else "".join(str(p.get("text", "")) for p in output if isinstance(p, dict))
            )
            messages.append({"role": "tool", "tool_call_id": item["call_id"], "content": text})
    return messages


def _tools(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or len(value) > MAX_TOOLS:
        raise refuse(f"tools must be an array of at most {MAX_TOOLS} tools.", "tools")
    tools = []
    for index, tool in enumerate(value):
        if isinstance(tool, dict) and tool.get("type") == "file_search":
            continue  # Ringside runs it (file_search_of), the model never sees it as a tool
        if not isinstance(tool, dict) or tool.get("type") != "function":
            kind = tool.get("type") if isinstance(tool, dict) else None
            raise refuse(
                f"Tools of type '{str(kind)[:50]}' are not supported yet; use function tools.", f"tools[{index}]"
            )
        if not isinstance(tool.get("name"), str) or not tool["name"]:
            raise refuse("A function tool needs a name.", f"tools[{index}].name")
        function = {
            key: tool[key] for key in ("name", "description", "parameters", "strict") if tool.get(key) is not None
        }
        tools.append({"type": "function", "function": function})
    return tools


def _tool_choice(value: Any) -> Any:
    if value in ("auto", "none", "required"):
        return value
    if isinstance(value, dict) and value.get("type") == "function" and isinstance(value.get("name"), str):
        return {"type": "function", "function": {"name": value["name"]}}
    raise refuse("tool_choice must be auto, none, required or {type: function, name}.", "tool_choice")


def _response_format(text: Any) -> dict[str, Any] | None:
    if text is None:
        return None
    if not isinstance(text, dict):
        raise refuse("text must be an object.", "text")
    form = text.get("format")
    if form is None or (isinstance(form, dict) and form.get("type") == "text"):
        return None
    if isinstance(form, dict) and form.get("type") == "json_object":
        return {"type": "json_object"}
    if isinstance(form, dict) and form.get("type") == "json_schema" and isinstance(form.get("schema"), dict):
        schema = {key: form[key] for key in ("name", "schema", "strict", "description") if form.get(key) is not None}
        return {"type": "json_schema", "json_schema": schema}
    raise refuse("text.format must be text, json_object, or json_schema with a name and a schema.", "text.format")


def chat_body(
    body: dict[str, Any], history: list[dict[str, Any]], items: list[dict[str, Any]], context: str = ""
) -> dict[str, Any]:
    """The chat completions body that asks the same of the model. `history`: the items of the
    previous responses in the chain (their inputs and outputs); instructions are not carried over.
    `context`: what file_search found, given to the model just before this turn's input."""
    messages = []
    if body.get("instructions"):
        messages.append({"role": "system", "content": body["instructions"]})
    messages += messages_of(history)
    if context:
        messages.append({"role": "system", "content": context})
    messages += messages_of(items)
    chat: dict[str, Any] = {"model": body["model"], "messages": messages}
    for name in RELAYED:
        if body.get(name) is not None:
            chat[name] = body[name]
    if body.get("top_logprobs"):
        chat["logprobs"] = True
    if body.get("max_output_tokens") is not None:
        chat["max_completion_tokens"] = body["max_output_tokens"]
    tools = _tools(body["tools"]) if body.get("tools") else []
    if tools:
        chat["tools"] = tools
    if body.get("tool_choice") is not None and (tools or body["tool_choice"] in ("auto", "none")):
        chat["tool_choice"] = _tool_choice(body["tool_choice"])
    response_format = _response_format(body.get("text"))
    if response_format is not None:
        chat["response_format"] = response_format
    reasoning = body.get("reasoning")
    if isinstance(reasoning, dict) and reasoning.get("effort"):
        chat["reasoning_effort"] = reasoning["effort"]
    if body.get("stream"):
        chat["stream"] = True
        chat["stream_options"] = {"include_usage": True}  # the completed event carries usage
    return chat


def skeleton(response_id: str, created: int, body: dict[str, Any]) -> dict[str, Any]:
    """The Response object before any output: what the request asked, echoed as OpenAI does."""
    text = body.get("text") if isinstance(body.get("text"), dict) else {"format": {"type": "text"}}
    response = {
        "id": response_id,
        "object": "response",
        "created_at": created,
        "status": "in_progress",
        "background": False,
        "error": None,
        "incomplete_details": None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "max_tool_calls": body.get("max_tool_calls"),
        "model": body["model"],
        "output": [],
        "parallel_tool_calls": body.get("parallel_tool_calls", True) is not False,
        "previous_response_id": body.get("previous_response_id"),
        "reasoning": body.get("reasoning") or {"effort": None, "summary": None},
        "service_tier": body.get("service_tier", "auto"),
        "store": body.get("store", True) is not False,
        "temperature": body.get("temperature", 1.0),
        "text": text,
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": [_echoed_tool(tool) for tool in body.get("tools") or ()],
        "top_logprobs": body.get("top_logprobs", 0),
        "top_p": body.get("top_p", 1.0),
        "truncation": body.get("truncation", "disabled"),
        "metadata": body.get("metadata") or {},
    }
    if body.get("user") is not None:
        response["user"] = body["user"]
    return response


def _echoed_tool(tool: dict[str, Any]) -> dict[str, Any]:
    """A tool as OpenAI echoes it: a function's `strict` defaults to true in the Responses API."""
    if tool.get("type") == "file_search":
        given = tool.get("ranking_options")
        ranking: dict[str, Any] = given if isinstance(given, dict) else {}
        return {
            "type": "file_search",
            "vector_store_ids": tool["vector_store_ids"],
            "filters": tool.get("filters"),
            "max_num_results": tool.get("max_num_results", DEFAULT_SEARCH_RESULTS),
            "ranking_options": {"ranker": "auto", "score_threshold": ranking.get("score_threshold", 0.0)},
        }
    return {
        "type": "function",
        "name": tool["name"],
        "description": tool.get("description"),
        "parameters": tool.get("parameters"),
        "strict": tool.get("strict", True),
    }


def usage_of(chat_usage: Any) -> dict[str, Any] | None:
    """Chat's usage in the Responses shape."""
    if not isinstance(chat_usage, dict):
        return None
    prompt = int(chat_usage.get("prompt_tokens") or 0)
    completion = int(chat_usage.get("completion_tokens") or 0)
    details = chat_usage.get("prompt_tokens_details") or {}
    cached, written = details.get("cached_tokens") or 0, details.get("cache_write_tokens") or 0
    reasoning = (chat_usage.get("completion_tokens_details") or {}).get("reasoning_tokens") or 0
    return {
        "input_tokens": prompt,
        "input_tokens_details": {"cached_tokens": int(cached), "cache_write_tokens": int(written)},
        "output_tokens": completion,
        "output_tokens_details": {"reasoning_tokens": int(reasoning)},
        "total_tokens": int(chat_usage.get("total_tokens") or prompt + completion),
    }


def message_item(item_id: str, text: str, refusal: str | None, status: str = "completed") -> dict[str, Any]:
    content = [_text("output_text", text)] if refusal is None else [{"type": "refusal", "refusal": refusal}]
    return {"id": item_id, "type": "message", "status": status, "role": "assistant", "content": content}


def function_call_item(
    item_id: str, call_id: str, name: str, arguments: str, status: str = "completed"
) -> dict[str, Any]:
    return {
        "id": item_id,
        "type": "function_call",
        "status": status,
        "call_id": call_id,
        "name": name,
        "arguments": arguments,
    }


def finish(response: dict[str, Any], finish_reason: Any, usage: dict[str, Any] | None) -> dict[str, Any]:
    """The response's final status from chat's finish_reason."""
    if finish_reason == "length":
        response["status"] = "incomplete"
        response["incomplete_details"] = {"reason": "max_output_tokens"}
    elif finish_reason == "content_filter":
        response["status"] = "incomplete"
        response["incomplete_details"] = {"reason": "content_filter"}
    else:
        response["status"] = "completed"
    if usage is not None:
        response["usage"] = usage
    return response


def from_completion(response: dict[str, Any], completion: Any) -> dict[str, Any]:
    """A complete chat answer as the Response object (the skeleton, filled in)."""
    if not isinstance(completion, dict) or not isinstance(completion.get("choices"), list) or not completion["choices"]:
        raise RingsideError("upstream_error", "The provider's answer was not a chat completion.")
    choice = completion["choices"][0]
    message = choice.get("message") or {} if isinstance(choice, dict) else {}
    output = []
    text, refusal = message.get("content"), message.get("refusal")
    if text or refusal or not message.get("tool_calls"):
        output.append(message_item(new_id("msg"), str(text or ""), refusal if isinstance(refusal, str) else None))
    for call in message.get("tool_calls") or ():
        function = call.get("function") or {}
        output.append(
            function_call_item(
                new_id("fc"),
                str(call.get("id") or new_id("call")),
                str(function.get("name", "")),
                str(function.get("arguments", "")),
            )
        )
    response["output"] = response["output"] + output  # after a file_search call, when there was one
    return finish(response, choice.get("finish_reason"), usage_of(completion.get("usage")))


def output_text(response: dict[str, Any]) -> str:
    """The concatenated output text (the SDK's `output_text`), for logs and tests."""
    return "".join(
        part.get("text", "")
        for item in response.get("output", ())
        if item.get("type") == "message"
        for part in item.get("content", ())
        if part.get("type") == "output_text"
    )
