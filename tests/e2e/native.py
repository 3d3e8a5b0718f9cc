"""What the native providers' end-to-end tests share: the request parts they send and the answer
the fakes give."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.harness import Stack

LOREM = "Lorem ipsum dolor sit amet consectetur adipiscing elit"  # every native fake's 8-word answer
PIXEL = "data:image/png;base64,iVBORw0KGgo="
WEATHER = {"type": "object", "properties": {"city": {"type": "string"}}}
TOOLS: list[Any] = [
    {"type": "function", "function": {"name": "get_weather", "description": "Weather of a city", "parameters": WEATHER}}
]


def text_and_image(text: str) -> list[dict[str, Any]]:
    return [{"type": "text", "text": text}, {"type": "image_url", "image_url": {"url": PIXEL}}]


def sqlite_stack(tmp_path_factory: pytest.TempPathFactory, name: str, env: dict[str, str]) -> Iterator[Stack]:
    """A module's own stack (SQLite: what these tests check is the translation, not the store)."""
    stack = Stack("sqlite", tmp_path_factory.mktemp(name), None, extra_env=env).start()
    yield stack
    stack.destroy()
