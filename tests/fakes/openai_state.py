"""What the OpenAI fake's handlers (tests/fakes/openai_upstream.py) share: how it behaves, what it
recorded of each request, and its refusals in OpenAI's error envelope."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.fakes import openai_wire as wire


@dataclass(frozen=True)
class FakeConfig:
    """How the fake behaves. ``api_key`` None accepts any (or no) Authorization header."""

    api_key: str | None = None
    latency_ms: float = 0.0
    token_interval_ms: float = 0.0
    default_completion_tokens: int = 16
    batch_step_ms: float = 0.0  # each step, and each line, of a batch (tests/fakes/openai_batches.py)


@dataclass
class RecordedRequest:
    """What the fake saw of one chat request, updated while its answer is sent.

    ``chunks_sent`` counts the JSON ``data:`` frames written (``[DONE]`` excluded); ``disconnected`` is
    True when the client went away before the answer was complete; ``status`` is the HTTP status sent,
    0 while (or if) none was.
    """

    body: Any
    headers: dict[str, str]
    completed: bool = False
    chunks_sent: int = 0
    disconnected: bool = False
    status: int = 0


CONFIG = web.AppKey("fake_config", FakeConfig)
RECORDS = web.AppKey("fake_records", deque[RecordedRequest])


def error(record: RecordedRequest, status: int, message: str, **details: str | None) -> web.Response:
    record.status = status
    record.completed = True
    return web.Response(
        status=status, body=wire.error_body(status, message, **details), content_type="application/json"
    )


def authorized(request: web.Request, config: FakeConfig) -> bool:
    return config.api_key is None or request.headers.get("Authorization") == f"Bearer {config.api_key}"
