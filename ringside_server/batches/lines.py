"""A batch's input file, one JSON request a line (OpenAI's format):
`{"custom_id": …, "method": "POST", "url": <the batch's endpoint>, "body": {…}}`.

The edge validates every line before the batch exists, so a bad file is a 400 naming its line; the
worker reads the same lines with the same rules as it runs them. Read line by line, never whole (a
batch file may hold 200 MiB)."""

from __future__ import annotations

import pathlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from ringside_server.errors import RingsideError

ENDPOINTS = ("/v1/chat/completions", "/v1/embeddings", "/v1/responses")  # what a batch's lines may call
COMPLETION_WINDOWS = {"24h": 24 * 3600}
MAX_LINES = 50_000  # API.md "Bodies": more lines is a 400 at POST /v1/batches
MAX_CUSTOM_ID = 512
MAX_USER_CHARS = 255  # `user` may name a customer, so it has the external id's bounds
PARAM = "input_file_id"


@dataclass(frozen=True, slots=True)
class Line:
    """One request of the batch: its number (1-based, as the 400s name it), id and body."""

    number: int
    custom_id: str
    body: dict[str, Any]


def _refused(number: int, message: str) -> RingsideError:
    return RingsideError("invalid_request", f"Line {number} of the input file: {message}", PARAM)


def _line(number: int, raw: bytes, endpoint: str, max_line_bytes: int) -> Line:
    if len(raw) > max_line_bytes:
        raise _refused(number, f"a request may hold at most {max_line_bytes} bytes.")
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise _refused(number, "not valid JSON.") from None
    if not isinstance(value, dict):
        raise _refused(number, "not a JSON object.")
    custom_id = value.get("custom_id")
    if not isinstance(custom_id, str) or not 1 <= len(custom_id) <= MAX_CUSTOM_ID or "\x00" in custom_id:
        raise _refused(number, f"custom_id must be a string of 1..{MAX_CUSTOM_ID} characters.")
    if value.get("method") != "POST":
        raise _refused(number, "method must be 'POST'.")
    if value.get("url") != endpoint:
        raise _refused(number, f"url must be the batch's endpoint, '{endpoint}'.")
    body = value.get("body")
    if not isinstance(body, dict):
        raise _refused(number, "body must be a JSON object.")
    if not isinstance(body.get("model"), str):
        raise _refused(number, "body.model must be a string.")
    if body.get("stream") is True:
        raise _refused(number, "a batch's requests cannot stream.")
    user = body.get("user")
    if isinstance(user, str) and (len(user) > MAX_USER_CHARS or "\x00" in user):
        raise _refused(number, f"body.user must be at most {MAX_USER_CHARS} characters, without NUL.")
    return Line(number, custom_id, body)


def read_lines(path: pathlib.Path, endpoint: str, max_line_bytes: int) -> Iterator[Line]:
    """Every request of the file, checked (blank lines skipped); the first bad line raises its 400.
    Blocking: run it on a thread."""
    seen: set[str] = set()
    count = 0
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            stripped = raw.strip()
            if not stripped:
                continue
            count += 1
            if count > MAX_LINES:
                raise _refused(number, f"a batch holds at most {MAX_LINES} requests.")
            line = _line(number, stripped, endpoint, max_line_bytes)
            if line.custom_id in seen:
                raise _refused(number, f"custom_id '{line.custom_id[:100]}' is used by an earlier line.")
            seen.add(line.custom_id)
            yield line


def check_terms(endpoint: str, completion_window: str) -> None:
    """The batch's own fields, checked before its file is read."""
    if endpoint not in ENDPOINTS:
        raise RingsideError("invalid_request", f"endpoint must be one of {', '.join(ENDPOINTS)}.", "endpoint")
    if completion_window not in COMPLETION_WINDOWS:
        raise RingsideError("invalid_request", "completion_window must be '24h'.", "completion_window")


def count_lines(path: pathlib.Path, endpoint: str, max_line_bytes: int) -> int:
    """Validates the whole file. → its number of requests (400 when it has none)."""
    count = sum(1 for _ in read_lines(path, endpoint, max_line_bytes))
    if count == 0:
        raise RingsideError("invalid_request", "The input file holds no requests.", PARAM)
    return count
