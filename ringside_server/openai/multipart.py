"""Multipart model requests (image edits and variations, audio transcriptions and translations):
the files a request carried, and the form they are sent upstream as."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp


@dataclass(frozen=True, slots=True)
class FilePart:
    """One uploaded file, held in memory (its route bounds the whole body: 25 or 64 MiB)."""

    filename: str
    content_type: str
    data: bytes

    def __repr__(self) -> str:  # never the bytes in a log or a traceback
        return f"FilePart({self.filename!r}, {self.content_type!r}, {len(self.data)} bytes)"


# HTML5's form encoding of a name or filename inside Content-Disposition (what browsers and httpx,
# hence OpenAI's SDKs, write): a quote and the control characters percent-escaped, the rest UTF-8 as
# is. aiohttp's default instead writes a non-ASCII field name as RFC 2231's `name*=utf-8''…`, then
# refuses its own form (an assertion wants `name=`): a relayed field named in any non-ASCII letter
# failed the whole call as a 502 (found by the fuzz run).
_FORM_ESCAPES = {ord('"'): "%22", **{code: f"%{code:02X}" for code in range(0x20) if code != 0x1B}, 0x7F: "%7F"}


def _form_name(text: str) -> str:
    return text.translate(_FORM_ESCAPES)


def form_data(body: dict[str, Any]) -> aiohttp.FormData:
    """The body as OpenAI's multipart form: files as files (a list under `name[]`), the rest as text."""
    form = aiohttp.FormData(quote_fields=False)  # names as HTML5 writes them (above); aiohttp doubles `\\`
    for name, value in body.items():
        parts = value if isinstance(value, list) else [value]
        if parts and all(isinstance(part, FilePart) for part in parts):
            field = _form_name(name + "[]" if isinstance(value, list) else name)
            for part in parts:
                form.add_field(field, part.data, filename=_form_name(part.filename), content_type=part.content_type)
        elif isinstance(value, list):  # a text list (timestamp_granularities[])
            for item in value:
                form.add_field(_form_name(name + "[]"), str(item))
        elif value is not None:
            form.add_field(_form_name(name), str(value).lower() if isinstance(value, bool) else str(value))
    return form
