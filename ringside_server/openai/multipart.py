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


def form_data(body: dict[str, Any]) -> aiohttp.FormData:
    """The body as OpenAI's multipart form: files as files (a list under `name[]`), the rest as text."""
    form = aiohttp.FormData()
    for name, value in body.items():
        parts = value if isinstance(value, list) else [value]
        if parts and all(isinstance(part, FilePart) for part in parts):
            field = name + "[]" if isinstance(value, list) else name
            for part in parts:
                form.add_field(field, part.data, filename=part.filename, content_type=part.content_type)
        elif isinstance(value, list):  # a text list (timestamp_granularities[])
            for item in value:
                form.add_field(name + "[]", str(item))
        elif value is not None:
            form.add_field(name, str(value).lower() if isinstance(value, bool) else str(value))
    return form
