"""ringside_server/providers/bedrock/eventstream.py: AWS's binary frames, split however they arrive."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from ringside_server.errors import RingsideError
from ringside_server.providers.bedrock.eventstream import messages
from tests.fakes.bedrock_upstream import event, frame


async def _chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def read(data: bytes, size: int) -> list[tuple[dict[str, str], bytes]]:
    async def collect() -> list[tuple[dict[str, str], bytes]]:
        return [message async for message in messages(_chunks(data, size))]

    return asyncio.run(collect())


@pytest.mark.parametrize("size", [1, 7, 4096])
def test_frames_are_read_whatever_the_chunking(size: int) -> None:
    data = event("messageStart", {"role": "assistant"}) + event("contentBlockDelta", {"delta": {"text": "hé"}})
    (first_headers, first), (second_headers, second) = read(data, size)
    assert first_headers[":event-type"] == "messageStart" and first == b'{"role":"assistant"}'
    assert second_headers[":message-type"] == "event" and second.decode() == '{"delta":{"text":"hé"}}'


def test_a_frame_that_does_not_add_up_ends_the_stream() -> None:
    data = bytearray(frame({":event-type": "x"}, b"{}"))
    data[-6] ^= 1  # a payload byte
    with pytest.raises(RingsideError, match="bad checksum"):
        read(bytes(data), 4096)
    with pytest.raises(RingsideError, match="bad prelude"):
        read(b"\x00" * 16, 4096)
