"""AWS's binary event stream (`application/vnd.amazon.eventstream`), read frame by frame.

A frame: total length (4 bytes, big endian), headers length (4), prelude CRC32 (4), headers, payload,
message CRC32 (4). A header: name length (1), name, value type (1), then for strings (type 7) a
2-byte length and the value. Both CRCs are checked: a frame that does not add up ends the stream.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import AsyncIterator

from ringside_server.errors import RingsideError

PRELUDE_BYTES = 12
MAX_FRAME_BYTES = 16 * 1024 * 1024
STRING = 7
# the value sizes of the fixed-size header types: bool true/false, byte, short, int, long, timestamp, uuid
FIXED_SIZES = {0: 0, 1: 0, 2: 1, 3: 2, 4: 4, 5: 8, 8: 8, 9: 16}


def _broken(why: str) -> RingsideError:
    return RingsideError("upstream_error", f"The provider's event stream was malformed: {why}.")


def _headers(data: bytes) -> dict[str, str]:
    headers: dict[str, str] = {}
    position = 0
    while position < len(data):
        size = data[position]
        name = data[position + 1 : position + 1 + size].decode()
        kind = data[position + 1 + size]
        position += 2 + size
        if kind in (6, STRING):  # bytes or string: 2-byte length
            (length,) = struct.unpack_from(">H", data, position)
            value = data[position + 2 : position + 2 + length]
            if kind == STRING:
                headers[name] = value.decode()
            position += 2 + length
        elif kind in FIXED_SIZES:
            position += FIXED_SIZES[kind]
        else:
            raise _broken(f"header type {kind}")
    return headers


async def messages(chunks: AsyncIterator[bytes]) -> AsyncIterator[tuple[dict[str, str], bytes]]:
    """(headers, payload) of each frame, as the chunks arrive."""
    buffer = b""
    async for chunk in chunks:
        buffer += chunk
        while len(buffer) >= PRELUDE_BYTES:
            total, headers_size, prelude_crc = struct.unpack_from(">III", buffer)
            if zlib.crc32(buffer[:8]) != prelude_crc or not 16 <= total <= MAX_FRAME_BYTES:
                raise _broken("bad prelude")
            if len(buffer) < total:
                break
            frame, buffer = buffer[:total], buffer[total:]
            (message_crc,) = struct.unpack_from(">I", frame, total - 4)
            if zlib.crc32(frame[:-4]) != message_crc:
                raise _broken("bad checksum")
            headers = _headers(frame[PRELUDE_BYTES : PRELUDE_BYTES + headers_size])
            yield headers, frame[PRELUDE_BYTES + headers_size : -4]
