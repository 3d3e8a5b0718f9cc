"""The fake OpenAI's image routes, at OpenAI's wire shape (`openai` SDK types/images_response.py):
`data` holds `n` images, base64 (gpt-image-1 always; DALL·E when `response_format=b64_json`) or a
URL; gpt-image-1 adds its token `usage`. A prompt containing ``[[fake:status=NNN]]`` fails with NNN.
Multipart bodies are recorded as their text fields and, per file, `{filename, content_type, bytes}`."""

from __future__ import annotations

import base64
import re
from typing import Any

import orjson
from aiohttp import BodyPartReader, web

from tests.fakes import openai_wire as wire

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC")
_STATUS = re.compile(r"\[\[fake:status=(\d{3})\]\]")


def answer(body: Any) -> web.Response:
    if not isinstance(body, dict):
        return web.Response(status=400, body=wire.error_body(400, "Invalid body."), content_type="application/json")
    failing = _STATUS.search(str(body.get("prompt", "")))
    if failing:
        status = int(failing.group(1))
        return web.Response(status=status, body=wire.error_body(status, "Failed."), content_type="application/json")
    given = body.get("n") or 1
    if not str(given).isascii() or not str(given).isdigit() or not 1 <= int(str(given)) <= 10:
        return web.Response(
            status=400, body=wire.error_body(400, "Invalid 'n'.", param="n"), content_type="application/json"
        )
    count = int(str(given))
    model = str(body.get("model", "dall-e-2"))
    as_base64 = model.startswith("gpt-image") or body.get("response_format") == "b64_json"
    image = {"b64_json": base64.b64encode(PNG).decode()} if as_base64 else {"url": "https://images.fake/1.png"}
    reply: dict[str, Any] = {"created": 1_700_000_000, "data": [dict(image) for _ in range(count)]}
    if model.startswith("gpt-image"):
        reply["usage"] = {
            "total_tokens": 100 + 272 * count,
            "input_tokens": 100,
            "output_tokens": 272 * count,
            "input_tokens_details": {"text_tokens": 100, "image_tokens": 0},
        }
    return web.Response(body=orjson.dumps(reply), content_type="application/json")


async def read_form(request: web.Request) -> dict[str, Any]:
    """A multipart body as a recordable dict."""
    form: dict[str, Any] = {}
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader) or not part.name:
            continue  # a nameless or nested part: read past, as OpenAI ignores what it does not know
        data = await part.read()
        if part.filename is None:
            form[part.name] = data.decode(errors="replace")  # a field that is not UTF-8: OpenAI's 400 later
        else:
            upload = {"filename": part.filename, "content_type": part.headers.get("Content-Type"), "bytes": len(data)}
            form.setdefault(part.name, []).append(upload)
    return form
