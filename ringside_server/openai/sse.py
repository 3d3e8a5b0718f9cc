"""Relaying an upstream's SSE stream: OpenAI framing kept byte for byte, usage read on the way.

Ringside always asks the upstream for usage (stream_options.include_usage). When the client did not
ask for it, the client must see exactly what the upstream would have sent for the client's own
request: no `"usage":null` member in the chunks and no final usage chunk.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from typing import Any

import orjson

from ringside_server.jsonio import dumps

_USAGE_NULL_LAST = re.compile(rb',\s*"usage"\s*:\s*null(?=\s*}\s*$)')
_USAGE_NULL_ANY = re.compile(rb'"usage"\s*:\s*null\s*,')
MAX_FRAME_BYTES = 8 * 1024 * 1024
DONE_FRAME = b"data: [DONE]\n\n"


@dataclass(slots=True)
class StreamTally:
    """What went by: the upstream's usage (when it came), what was generated, how it ended."""

    usage: dict[str, Any] | None = None
    content_chunks: int = 0
    content_bytes: int = 0
    done_frame: bytes = b""
    error: dict[str, Any] | None = None
    model: str = ""
    # The final usage chunk, held back (wallet calls) to gain a `ringside` member after the settle.
    usage_chunk: dict[str, Any] | None = None


async def frames(lines: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """Group lines into SSE events (each ends with a blank line); a trailing partial is yielded too."""
    buffer: list[bytes] = []
    size = 0
    async for line in lines:
        buffer.append(line)
        size += len(line)
        if line in (b"\n", b"\r\n") or size > MAX_FRAME_BYTES:
            yield b"".join(buffer)
            buffer, size = [], 0
    if buffer:
        yield b"".join(buffer)


# Where an event ends inside a read: a line break, then a blank line.
_EVENT_END = re.compile(rb"\n\r?\n")


def _whole_events(buffer: bytes) -> tuple[list[bytes], int]:
    """The events `buffer` holds whole, as `frames` cuts them, and where the unfinished rest starts."""
    events: list[bytes] = []
    start = 0
    while True:
        if buffer.startswith(b"\n", start):  # a blank line at an event's start is an event
            end = start + 1
        elif buffer.startswith(b"\r\n", start):
            end = start + 2
        else:
            found = _EVENT_END.search(buffer, start)
            if found is None:
                return events, start
            end = found.end()
        events.append(buffer[start:end])
        start = end


def split_events(piece: bytes) -> list[bytes]:
    """A relayed piece (one or more whole events written together, see `frame_batches`) as its events,
    for what translates a stream event by event."""
    events, rest = _whole_events(piece)
    if rest < len(piece):
        events.append(piece[rest:])
    return events


async def frame_batches(chunks: AsyncIterator[bytes]) -> AsyncGenerator[list[bytes], None]:
    """The events of an SSE body read as it arrives, the same events as `frames` gives, grouped by
    the read that completed them: every event one read made whole comes at once, so the relay
    writes them to the client in one write, not one write (and one wake-up) per event."""
    buffer = b""
    try:
        async for chunk in chunks:
            buffer += chunk
            batch, start = _whole_events(buffer)
            buffer = buffer[start:]
            if len(buffer) > MAX_FRAME_BYTES:
                batch.append(buffer)
                buffer = b""
            if batch:
                yield batch
    finally:
        await _close(chunks)  # read to its end, or left early ([DONE], a client gone): closed now
    if buffer:
        yield [buffer]


async def one_by_one(events: AsyncIterator[bytes]) -> AsyncGenerator[list[bytes], None]:
    """`frames`' events as batches of one (an upstream read line by line)."""
    try:
        async for event in events:
            yield [event]
    finally:
        await _close(events)


async def _close(source: AsyncIterator[bytes]) -> None:
    """Close an async generator left before its end here and now: left to the garbage collector,
    each one is closed later by a task of its own (the event loop's finalizer hook)."""
    aclose = getattr(source, "aclose", None)
    if aclose is not None:
        await aclose()


def data_of(frame: bytes) -> bytes | None:
    data_lines = [line[5:].lstrip(b" ") for line in frame.splitlines() if line.startswith(b"data:")]
    return b"\n".join(data_lines) if data_lines else None


def _count(chunk: dict[str, Any], tally: StreamTally) -> None:
    for choice in chunk.get("choices") or ():
        delta = choice.get("delta") if isinstance(choice, dict) else None
        if not isinstance(delta, dict):
            continue
        generated = 0
        for key in ("content", "refusal", "reasoning_content"):
            value = delta.get(key)
            if isinstance(value, str):
                generated += len(value.encode())
        if delta.get("tool_calls"):
            generated += len(orjson.dumps(delta["tool_calls"]))
        if generated:
            tally.content_chunks += 1
            tally.content_bytes += generated


def relay_frame(frame: bytes, tally: StreamTally, client_wants_usage: bool, hold_usage: bool = False) -> bytes | None:
    """The bytes to send the client for one upstream event (None: send nothing).

    Sets `tally.done_frame` on `[DONE]` and returns None for it: the caller settles first, then
    sends it, so a client that saw the end of a stream saw a call already paid for.
    """
    payload = data_of(frame)
    if payload is None:
        return frame  # comments (`: keep-alive`) and anything else pass through
    if payload.strip() == b"[DONE]":
        tally.done_frame = frame
        return None
    try:
        chunk = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return frame
    if not isinstance(chunk, dict):
        return frame
    if "error" in chunk:
        tally.error = chunk["error"] if isinstance(chunk["error"], dict) else {"message": str(chunk["error"])}
        return frame
    tally.model = tally.model or str(chunk.get("model", ""))
    _count(chunk, tally)
    if "usage" not in chunk:
        return frame
    usage = chunk["usage"]
    if usage:
        tally.usage = usage
    if client_wants_usage:
        if hold_usage and usage and not chunk.get("choices"):
            tally.usage_chunk = chunk
            return None
        return frame
    if usage and not chunk.get("choices"):
        return None  # the final usage chunk the client did not ask for
    if usage is None:
        stripped, replaced = _USAGE_NULL_LAST.subn(b"", frame.rstrip(b"\r\n"), count=1)
        if not replaced:
            stripped, replaced = _USAGE_NULL_ANY.subn(b"", frame.rstrip(b"\r\n"), count=1)
        if replaced:
            return stripped + frame[len(frame.rstrip(b"\r\n")) :]
    del chunk["usage"]  # an upstream that puts usage beside content: re-encode without it
    return b"data: " + orjson.dumps(chunk) + b"\n\n"


def usage_frame_with(chunk: dict[str, Any], ringside: dict[str, Any]) -> bytes:
    """The held final usage chunk, with Ringside's member beside `usage` (API.md "Prepaid wallet")."""
    return b"data: " + dumps({**chunk, "ringside": ringside}) + b"\n\n"


def error_frame(error: dict[str, Any]) -> bytes:
    return b"data: " + orjson.dumps({"error": error}) + b"\n\n"
