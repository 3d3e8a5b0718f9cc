"""A chat completions stream as the Responses API's semantic events (OpenAI's order and shapes,
each with its `sequence_number`), so the OpenAI SDK's `responses.stream()` helper follows it.

    response.created → response.in_progress → per output item: output_item.added →
    (content_part.added → output_text.delta… → output_text.done → content_part.done) or
    (function_call_arguments.delta… → function_call_arguments.done) → output_item.done →
    response.completed (or response.incomplete / response.failed)
"""

from __future__ import annotations

import copy
from typing import Any

import orjson

from ringside_server.ids import new_id
from ringside_server.openai import responses as wire
from ringside_server.openai.sse import data_of


class StreamTranslator:
    """Feed it the chat stream's frames; it gives back the Responses events' bytes."""

    def __init__(self, response: dict[str, Any]) -> None:
        self.response = response  # the skeleton, filled in as the stream goes
        self.sequence = 0
        self.message: dict[str, Any] | None = None  # the open message item
        self.calls: dict[int, dict[str, Any]] = {}  # chat's tool_call index → the open function_call item
        self.finish_reason: Any = None
        self.usage: dict[str, Any] | None = None
        self.ended = False
        self.annotations: list[dict[str, Any]] = []  # file_search's citations, on the message's text

    def _event(self, kind: str, **fields: Any) -> bytes:
        payload = {"type": kind, "sequence_number": self.sequence, **fields}
        self.sequence += 1
        return b"event: " + kind.encode() + b"\ndata: " + orjson.dumps(payload) + b"\n\n"

    def _snapshot(self) -> dict[str, Any]:
        return copy.deepcopy(self.response)

    def start(self) -> bytes:
        return self._event("response.created", response=self._snapshot()) + self._event(
            "response.in_progress", response=self._snapshot()
        )

    def searched(self, item: dict[str, Any]) -> bytes:
        """A file_search call Ringside ran before the model: its item and OpenAI's events for it."""
        self.response["output"].append(item)
        index, item_id = self._index(item), item["id"]
        return (
            self._event("response.output_item.added", output_index=index, item={**item, "status": "in_progress"})
            + self._event("response.file_search_call.in_progress", output_index=index, item_id=item_id)
            + self._event("response.file_search_call.searching", output_index=index, item_id=item_id)
            + self._event("response.file_search_call.completed", output_index=index, item_id=item_id)
            + self._event("response.output_item.done", output_index=index, item=copy.deepcopy(item))
        )

    def frame(self, frame: bytes) -> bytes:
        """The events for one chat SSE frame (b"" when it adds none); comments pass through."""
        payload = data_of(frame)
        if payload is None:
            return frame  # `: keep-alive`
        if payload.strip() == b"[DONE]":
            return self.done()
        try:
            chunk = orjson.loads(payload)
        except orjson.JSONDecodeError:
            return b""
        if not isinstance(chunk, dict):
            return b""
        if "error" in chunk:
            error = chunk["error"] if isinstance(chunk["error"], dict) else {"message": str(chunk["error"])}
            # OpenAI's response error codes are a closed set: a timeout or a provider's failure is theirs
            code = "rate_limit_exceeded" if error.get("code") == "rate_limit_exceeded" else "server_error"
            return self.failed(code, str(error.get("message") or "The call failed."))
        if chunk.get("usage"):
            self.usage = wire.usage_of(chunk["usage"])
        out = b""
        for choice in chunk.get("choices") or ():
            if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or {}
            if isinstance(delta.get("content"), str) and delta["content"]:
                out += self._text(delta["content"])
            for call in delta.get("tool_calls") or ():
                if isinstance(call, dict):
                    out += self._call(call)
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]
        return out

    def _open_message(self) -> tuple[dict[str, Any], bytes]:
        if self.message is not None:
            return self.message, b""
        message = self.message = wire.message_item(new_id("msg"), "", None, "in_progress")
        message["content"] = []
        out = self._added(message)
        part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
        message["content"].append(part)
        return message, out + self._event(
            "response.content_part.added",
            item_id=message["id"],
            output_index=self._index(message),
            content_index=0,
            part=copy.deepcopy(part),
        )

    def _text(self, text: str) -> bytes:
        message, out = self._open_message()
        message["content"][0]["text"] += text
        return out + self._event(
            "response.output_text.delta",
            item_id=message["id"],
            output_index=self._index(message),
            content_index=0,
            delta=text,
            logprobs=[],
        )

    def _call(self, call: dict[str, Any]) -> bytes:
        index = call.get("index", 0)
        function = call.get("function") or {}
        out = b""
        item = self.calls.get(index)
        if item is None:
            out += self._close_message()
            item = wire.function_call_item(
                new_id("fc"), str(call.get("id") or new_id("call")), str(function.get("name") or ""), "", "in_progress"
            )
            self.calls[index] = item
            out += self._added(item)
        arguments = function.get("arguments")
        if isinstance(arguments, str) and arguments:
            item["arguments"] += arguments
            out += self._event(
                "response.function_call_arguments.delta",
                item_id=item["id"],
                output_index=self._index(item),
                delta=arguments,
            )
        return out

    def _added(self, item: dict[str, Any]) -> bytes:
        self.response["output"].append(item)
        return self._event("response.output_item.added", output_index=self._index(item), item=copy.deepcopy(item))

    def _index(self, item: dict[str, Any]) -> int:
        return next(i for i, candidate in enumerate(self.response["output"]) if candidate is item)

    def _close_message(self) -> bytes:
        message, self.message = self.message, None
        if message is None:
            return b""
        index, part = self._index(message), message["content"][0]
        message["status"] = "completed"
        cited = b""
        for number, annotation in enumerate(self.annotations):
            annotation = {**annotation, "index": len(part["text"])}
            part["annotations"].append(annotation)
            cited += self._event(
                "response.output_text.annotation.added",
                item_id=message["id"],
                output_index=index,
                content_index=0,
                annotation_index=number,
                annotation=annotation,
            )
        return cited + (
            self._event(
                "response.output_text.done",
                item_id=message["id"],
                output_index=index,
                content_index=0,
                text=part["text"],
                logprobs=[],
            )
            + self._event(
                "response.content_part.done",
                item_id=message["id"],
                output_index=index,
                content_index=0,
                part=copy.deepcopy(part),
            )
            + self._event("response.output_item.done", output_index=index, item=copy.deepcopy(message))
        )

    def _close_calls(self) -> bytes:
        out = b""
        for item in self.calls.values():
            index = self._index(item)
            item["status"] = "completed"
            out += self._event(
                "response.function_call_arguments.done",
                item_id=item["id"],
                output_index=index,
                name=item["name"],
                arguments=item["arguments"],
            )
            out += self._event("response.output_item.done", output_index=index, item=copy.deepcopy(item))
        self.calls = {}
        return out

    def done(self) -> bytes:
        """The chat stream ended well: close what is open, then response.completed (or .incomplete)."""
        if self.ended:
            return b""
        self.ended = True
        # an empty answer still has its (empty) message, as OpenAI's does
        out = b"" if self.response["output"] else self._open_message()[1]
        out += self._close_message() + self._close_calls()
        wire.finish(self.response, self.finish_reason, self.usage)
        kind = "response.completed" if self.response["status"] == "completed" else "response.incomplete"
        return out + self._event(kind, response=self._snapshot())

    def failed(self, code: str, message: str) -> bytes:
        """The call failed after the first byte: response.failed, with what was generated."""
        if self.ended:
            return b""
        self.ended = True
        self.message = None
        self.calls = {}
        self.response["status"] = "failed"
        self.response["error"] = {"code": code, "message": message}
        if self.usage is not None:
            self.response["usage"] = self.usage
        return self._event("response.failed", response=self._snapshot())
