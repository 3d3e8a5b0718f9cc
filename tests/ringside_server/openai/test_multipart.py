"""The multipart form Ringside relays upstream (image edits and variations, audio): every field a
client sent arrives under its own name — non-ASCII, quotes and control characters included — read
back by aiohttp's own multipart parser over a real socket (the fuzz run found non-ASCII names made
the relay fail as a 502)."""

from __future__ import annotations

from typing import Any

import aiohttp
from aiohttp import BodyPartReader, web

from ringside_server.openai.multipart import FilePart, form_data
from tests.harness import free_port


async def _received(body: dict[str, Any]) -> list[tuple[str | None, str | None, bytes]]:
    """(name, filename, bytes) of each part, as a server reading the relayed form sees them."""
    seen: list[tuple[str | None, str | None, bytes]] = []

    async def handler(request: web.Request) -> web.Response:
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            assert isinstance(part, BodyPartReader)
            seen.append((part.name, part.filename, bytes(await part.read())))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/form", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"http://127.0.0.1:{port}/form", data=form_data(body)) as response,
        ):
            assert response.status == 200
    finally:
        await runner.cleanup()
    return seen


async def test_fields_named_in_any_letter_are_relayed_under_their_names() -> None:
    image = FilePart("ünïcode ‘photo’.png", "image/png", b"\x89PNG data")
    seen = await _received({"prompt": "a cat", "Fñ\u0096\U000b17a6": "false", "\U000378adx": "{}", "image": image})
    assert seen == [
        ("prompt", None, b"a cat"),
        ("Fñ\u0096\U000b17a6", None, b"false"),
        ("\U000378adx", None, b"{}"),
        ("image", "ünïcode ‘photo’.png", b"\x89PNG data"),
    ]


async def test_a_quote_or_a_line_break_in_a_name_cannot_forge_a_part_header() -> None:
    names = {'a"b': "1", "c\r\nContent-Type: text/evil": "2", "back\\slash": "3"}
    seen = await _received({**names, "file": FilePart('x"\r\n.wav', "audio/wav", b"RIFF")})
    # escaped as HTML5 form encoding writes them (what browsers and OpenAI's SDKs send)
    assert seen == [
        ("a%22b", None, b"1"),
        ("c%0D%0AContent-Type: text/evil", None, b"2"),
        ("back\\slash", None, b"3"),
        ("file", "x%22%0D%0A.wav", b"RIFF"),
    ]
