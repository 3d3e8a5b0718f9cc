"""ringside_server/openai/sse.py: the client sees exactly the bytes the upstream would have sent for the
client's own request (API.md "Model calls", streaming), while Ringside reads usage on the way."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ringside_server.openai.sse import (
    DONE_FRAME,
    StreamTally,
    error_frame,
    frame_batches,
    frames,
    relay_frame,
    split_events,
)

USAGE = {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15}


def chunk(choices: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": "gpt-4o-mini-2024-07-18",
        "system_fingerprint": "fp_1",
        "choices": choices,
        **extra,
    }


def content(text: str, index: int = 0) -> dict[str, Any]:
    return {"index": index, "delta": {"content": text}, "logprobs": None, "finish_reason": None}


def frame_of(payload: dict[str, Any]) -> bytes:
    return b"data: " + orjson.dumps(payload) + b"\n\n"


def relay(frame: bytes, client_wants_usage: bool, tally: StreamTally | None = None) -> bytes | None:
    return relay_frame(frame, tally if tally is not None else StreamTally(), client_wants_usage)


# -- usage hidden from a client that did not ask for it -------------------------------------------


def test_usage_null_is_stripped_to_the_chunk_without_usage() -> None:
    with_usage = chunk([content("Hello")], usage=None)
    without_usage = chunk([content("Hello")])
    assert relay(frame_of(with_usage), client_wants_usage=False) == frame_of(without_usage)


def test_usage_null_in_the_middle_of_a_chunk_is_stripped() -> None:
    payload = {"id": "chatcmpl-1", "usage": None, "choices": [content("Hi")], "model": "m"}
    expected = {"id": "chatcmpl-1", "choices": [content("Hi")], "model": "m"}
    assert relay(frame_of(payload), client_wants_usage=False) == frame_of(expected)


def test_usage_null_with_spaces_and_crlf_is_stripped_keeping_the_upstream_formatting() -> None:
    frame = b'data: {"id": "chatcmpl-1", "choices": [], "usage": null}\r\n\r\n'
    assert relay(frame, client_wants_usage=False) == b'data: {"id": "chatcmpl-1", "choices": []}\r\n\r\n'


def test_the_word_usage_inside_content_is_left_alone() -> None:
    text = '"usage":null, and more'
    payload = chunk([content(text)], usage=None)
    relayed = relay(frame_of(payload), client_wants_usage=False)
    assert relayed == frame_of(chunk([content(text)]))
    assert relayed is not None and orjson.loads(relayed[len(b"data: ") :])["choices"][0]["delta"]["content"] == text


def test_the_final_usage_chunk_is_dropped_but_its_usage_is_recorded() -> None:
    tally = StreamTally()
    assert relay(frame_of(chunk([], usage=USAGE)), client_wants_usage=False, tally=tally) is None
    assert tally.usage == USAGE


def test_usage_beside_content_is_recorded_and_removed_from_the_chunk() -> None:
    tally = StreamTally()
    relayed = relay(frame_of(chunk([content("end")], usage=USAGE)), client_wants_usage=False, tally=tally)
    assert relayed == frame_of(chunk([content("end")]))
    assert tally.usage == USAGE
    assert tally.content_chunks == 1


def test_a_chunk_without_usage_passes_unchanged() -> None:
    frame = frame_of(chunk([content("Hi")]))
    assert relay(frame, client_wants_usage=False) == frame


# -- usage kept for a client that asked for it ----------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [chunk([content("Hello")], usage=None), chunk([], usage=USAGE), chunk([content("x")], usage=USAGE)],
)
def test_a_client_that_asked_for_usage_gets_every_frame_byte_for_byte(payload: dict[str, Any]) -> None:
    frame = frame_of(payload)
    assert relay(frame, client_wants_usage=True) == frame


def test_a_client_that_asked_for_usage_still_has_it_recorded() -> None:
    tally = StreamTally()
    relay(frame_of(chunk([], usage=USAGE)), client_wants_usage=True, tally=tally)
    assert tally.usage == USAGE


# -- other frames -----------------------------------------------------------------------------------


@pytest.mark.parametrize("client_wants_usage", [True, False])
def test_keep_alive_comments_pass_through(client_wants_usage: bool) -> None:
    tally = StreamTally()
    assert relay(b": keep-alive\n\n", client_wants_usage, tally) == b": keep-alive\n\n"
    assert tally == StreamTally()


@pytest.mark.parametrize("frame", [DONE_FRAME, b"data:[DONE]\n\n", b"data: [DONE]\r\n\r\n"])
def test_done_is_held_back_for_the_caller_to_send_after_settling(frame: bytes) -> None:
    tally = StreamTally()
    assert relay(frame, client_wants_usage=True, tally=tally) is None
    assert tally.done_frame == frame


def test_an_error_frame_is_relayed_and_recorded() -> None:
    error = {"message": "The server had an error", "type": "server_error", "param": None, "code": None}
    frame = frame_of({"error": error})
    tally = StreamTally()
    assert relay(frame, client_wants_usage=False, tally=tally) == frame
    assert tally.error == error


def test_an_error_that_is_not_an_object_is_recorded_as_a_message() -> None:
    tally = StreamTally()
    relay(b'data: {"error": "overloaded"}\n\n', client_wants_usage=False, tally=tally)
    assert tally.error == {"message": "overloaded"}


def test_error_frame_renders_openai_error_sse() -> None:
    error = {"message": "boom", "type": "server_error"}
    assert error_frame(error) == b'data: {"error":{"message":"boom","type":"server_error"}}\n\n'
    tally = StreamTally()
    relay(error_frame(error), client_wants_usage=False, tally=tally)
    assert tally.error == error


def test_unparseable_data_passes_through() -> None:
    frame = b"data: {not json\n\n"
    assert relay(frame, client_wants_usage=False) == frame


# -- counting what was generated --------------------------------------------------------------------


def test_content_chunks_and_bytes_are_counted() -> None:
    tally = StreamTally()
    role = chunk([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}])
    for payload in (role, chunk([content("Héllo")]), chunk([content(" wörld")]), chunk([], usage=USAGE)):
        relay(frame_of(payload), client_wants_usage=False, tally=tally)
    assert tally.content_chunks == 2
    assert tally.content_bytes == len("Héllo".encode()) + len(" wörld".encode())
    assert tally.model == "gpt-4o-mini-2024-07-18"


def test_tool_call_and_refusal_deltas_count_as_generated() -> None:
    tool_calls = [{"index": 0, "function": {"arguments": '{"city":"Paris"}'}}]
    tally = StreamTally()
    relay(frame_of(chunk([{"index": 0, "delta": {"tool_calls": tool_calls}}])), False, tally)
    relay(frame_of(chunk([{"index": 0, "delta": {"refusal": "No."}}])), False, tally)
    assert tally.content_chunks == 2
    assert tally.content_bytes == len(orjson.dumps(tool_calls)) + 3


# -- framing ----------------------------------------------------------------------------------------


async def _lines(*lines: bytes) -> AsyncIterator[bytes]:
    for line in lines:
        yield line


async def _collect(lines: AsyncIterator[bytes]) -> list[bytes]:
    return [frame async for frame in frames(lines)]


async def test_frames_groups_lines_into_events_ending_with_a_blank_line() -> None:
    got = await _collect(
        _lines(
            b'data: {"a":1}\n',
            b"\n",
            b": keep-alive\n",
            b"\n",
            b"data: first\n",
            b"data: second\n",
            b"\r\n",
            b"data: [DONE]\n",
            b"\n",
        )
    )
    assert got == [b'data: {"a":1}\n\n', b": keep-alive\n\n", b"data: first\ndata: second\n\r\n", DONE_FRAME]


async def test_frames_yields_a_trailing_partial_event() -> None:
    assert await _collect(_lines(b"data: [DONE]\n", b"\n", b"data: cut")) == [DONE_FRAME, b"data: cut"]


async def test_a_whole_stream_relayed_without_usage_is_the_stream_the_client_asked_for() -> None:
    upstream = [
        frame_of(chunk([{"index": 0, "delta": {"role": "assistant", "content": ""}}], usage=None)),
        frame_of(chunk([content("Hi")], usage=None)),
        frame_of(chunk([{"index": 0, "delta": {}, "finish_reason": "stop"}], usage=None)),
        frame_of(chunk([], usage=USAGE)),
        DONE_FRAME,
    ]
    expected = [
        frame_of(chunk([{"index": 0, "delta": {"role": "assistant", "content": ""}}])),
        frame_of(chunk([content("Hi")])),
        frame_of(chunk([{"index": 0, "delta": {}, "finish_reason": "stop"}])),
    ]
    lines = [line for frame in upstream for line in frame.splitlines(keepends=True)]
    tally = StreamTally()
    relayed = [relay(frame, False, tally) async for frame in frames(_lines(*lines))]
    assert [frame for frame in relayed if frame is not None] == expected
    assert tally.usage == USAGE
    assert tally.done_frame == DONE_FRAME


def _as_lines(body: bytes) -> list[bytes]:
    """`body` line by line, as aiohttp reads a stream (split after each newline)."""
    *whole, rest = body.split(b"\n")
    return [line + b"\n" for line in whole] + ([rest] if rest else [])


async def _batched(body: bytes, cuts: list[int]) -> list[list[bytes]]:
    async def chunks() -> AsyncIterator[bytes]:
        start = 0
        for cut in [*sorted(cut % (len(body) + 1) for cut in cuts), len(body)]:
            if cut > start:
                yield body[start:cut]
                start = cut

    return [batch async for batch in frame_batches(chunks())]


PIECES = st.sampled_from(
    [b'data: {"a":1}', b"data: x", b": keep-alive", b"\n", b"\r\n", b"\r", b"\n\n", b"data: [DONE]"]
)


@settings(max_examples=300, deadline=None)
@given(pieces=st.lists(PIECES, max_size=30), cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=12))
async def test_events_read_as_they_arrive_are_those_read_line_by_line(pieces: list[bytes], cuts: list[int]) -> None:
    """However the body is cut into reads, the batched events are `frames`' events, in order, and
    nothing is lost or repeated (the relay stays byte for byte)."""
    body = b"".join(pieces)
    batches = await _batched(body, cuts)
    assert [event for batch in batches for event in batch] == await _collect(_lines(*_as_lines(body)))
    assert all(batches)


async def test_the_events_one_read_completes_come_as_one_batch() -> None:
    body = b'data: {"a":1}\n\ndata: {"b":2}\n\ndata: [DO'
    assert await _batched(body + b"NE]\n\n", [len(body)]) == [
        [b'data: {"a":1}\n\n', b'data: {"b":2}\n\n'],
        [DONE_FRAME],
    ]


async def test_batches_left_early_close_the_reading_at_once() -> None:
    """A relay that stops at [DONE] (or whose client left) closes the upstream's reading now, not
    later in a task of the event loop's garbage hook."""
    closed: list[bool] = []

    async def chunks() -> AsyncIterator[bytes]:
        try:
            yield DONE_FRAME
            yield b"data: after\n\n"
        finally:
            closed.append(True)

    batches = frame_batches(chunks())
    assert await anext(batches) == [DONE_FRAME]
    await batches.aclose()
    assert closed == [True]


@settings(max_examples=200, deadline=None)
@given(pieces=st.lists(PIECES, max_size=30), cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=12))
async def test_a_written_piece_splits_back_into_the_events_it_joined(pieces: list[bytes], cuts: list[int]) -> None:
    """What translates a relay event by event (Anthropic's Messages, the Responses API) gets
    `frames`' events back from the joined pieces the relay writes."""
    body = b"".join(pieces)
    joined = [b"".join(batch) for batch in await _batched(body, cuts)]
    assert [event for piece in joined for event in split_events(piece)] == await _collect(_lines(*_as_lines(body)))
