"""OpenAI chat.completion.chunk frames → Anthropic's stream events (`event: <name>` + `data:`).

message_start first; each run of text is a `text` block and each tool call a `tool_use` block
(`input_json_delta` pieces), opened with content_block_start and closed with content_block_stop;
at the end, message_delta (stop reason, usage) and message_stop. An error frame becomes Anthropic's
`error` event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from ringside_server.messages.response import STOP_REASONS, as_object, error, message_id, usage

DONE = b"[DONE]"


def event(name: str, payload: dict[str, Any]) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps({"type": name, **payload}) + b"\n\n"


def _data(frame: bytes) -> bytes | None:
    lines = [line[5:].lstrip(b" ") for line in frame.splitlines() if line.startswith(b"data:")]
    return b"\n".join(lines) if lines else None


@dataclass(slots=True)
class MessagesStream:
    """Translates one relay's frames, in order; `frame` gives the Anthropic events for one."""

    started: bool = False
    open_block: int | None = None  # the index of the block being written
    open_kind: str = ""
    blocks: int = 0
    tools: dict[int, int] = field(default_factory=dict)  # OpenAI tool_calls index → block index
    stop_reason: str = "end_turn"
    usage: dict[str, Any] | None = None

    def frame(self, frame: bytes) -> list[bytes]:
        data = _data(frame)
        if data is None:
            return [frame] if frame.startswith(b":") else []  # keep-alive comments pass
        if data == DONE:
            return self._end()
        try:
            chunk = orjson.loads(data)
        except orjson.JSONDecodeError:
            return []
        if not isinstance(chunk, dict):
            return []
        if "error" in chunk:
            return [event("error", {"error": error(500, as_object(chunk["error"]))["error"]})]
        out = [] if self.started else [self._start(chunk)]
        self.started = True
        if isinstance(chunk.get("usage"), dict):
            self.usage = chunk["usage"]
        for choice in chunk.get("choices") or ():
            if isinstance(choice, dict) and choice.get("index", 0) == 0:
                out += self._choice(choice)
        return out

    def _start(self, chunk: dict[str, Any]) -> bytes:
        message: dict[str, Any] = {
            "id": message_id(chunk.get("id")),
            "type": "message",
            "role": "assistant",
            "model": str(chunk.get("model", "")),
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 0, "output_tokens": 0},
        }
        return event("message_start", {"message": message})

    def _open(self, kind: str, block: dict[str, Any]) -> list[bytes]:
        out = self._close()
        self.open_block, self.open_kind = self.blocks, kind
        self.blocks += 1
        return [*out, event("content_block_start", {"index": self.open_block, "content_block": block})]

    def _close(self) -> list[bytes]:
        if self.open_block is None:
            return []
        index, self.open_block, self.open_kind = self.open_block, None, ""
        return [event("content_block_stop", {"index": index})]

    def _choice(self, choice: dict[str, Any]) -> list[bytes]:
        out: list[bytes] = []
        delta = as_object(choice.get("delta"))
        out += self._thinking(delta)
        text = delta.get("content")
        if isinstance(text, str) and text:
            if self.open_kind != "text":
                out += self._open("text", {"type": "text", "text": ""})
            out.append(
                event("content_block_delta", {"index": self.open_block, "delta": {"type": "text_delta", "text": text}})
            )
        for call in delta.get("tool_calls") or ():
            out += self._tool(call) if isinstance(call, dict) else []
        if choice.get("finish_reason"):
            self.stop_reason = STOP_REASONS.get(str(choice["finish_reason"]), "end_turn")
        return out

    def _thinking(self, delta: dict[str, Any]) -> list[bytes]:
        """`thinking_blocks` pieces (an Anthropic provider's, signature last), else `reasoning_content`."""
        pieces = delta.get("thinking_blocks")
        if not isinstance(pieces, list):
            reasoning = delta.get("reasoning_content")
            pieces = [{"type": "thinking", "thinking": reasoning}] if isinstance(reasoning, str) and reasoning else []
        out: list[bytes] = []
        for piece in pieces:
            piece = as_object(piece)
            if piece.get("type") == "redacted_thinking":
                out += self._open("redacted_thinking", piece)
                continue
            if self.open_kind != "thinking":
                out += self._open("thinking", {"type": "thinking", "thinking": "", "signature": ""})
            for name, kind in (("thinking", "thinking_delta"), ("signature", "signature_delta")):
                if isinstance(piece.get(name), str) and piece[name]:
                    out.append(
                        event(
                            "content_block_delta",
                            {"index": self.open_block, "delta": {"type": kind, name: piece[name]}},
                        )
                    )
        return out

    def _tool(self, call: dict[str, Any]) -> list[bytes]:
        out: list[bytes] = []
        position = call.get("index", 0)
        function = as_object(call.get("function"))
        if position not in self.tools:
            block = {
                "type": "tool_use",
                "id": str(call.get("id", "")),
                "name": str(function.get("name", "")),
                "input": {},
            }
            out += self._open("tool_use", block)
            self.tools[position] = self.blocks - 1
        arguments = function.get("arguments")
        if isinstance(arguments, str) and arguments:
            piece = {"type": "input_json_delta", "partial_json": arguments}
            out.append(event("content_block_delta", {"index": self.tools[position], "delta": piece}))
        return out

    def _end(self) -> list[bytes]:
        out = self._close()
        delta = {"stop_reason": self.stop_reason, "stop_sequence": None}
        out.append(event("message_delta", {"delta": delta, "usage": usage(self.usage)}))
        out.append(event("message_stop", {}))
        return out
