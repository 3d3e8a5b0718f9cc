"""The output and error files' lines, in OpenAI's batch format: an answered request goes to the output
file, a refused or failed one to the error file, both as
`{"id": "batch_req_…", "custom_id", "response": {"status_code", "request_id", "body"}, "error": null}`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from ringside_server.errors import RingsideError
from ringside_server.ids import new_sortable_id
from ringside_server.openai.errors import error_body


@dataclass(frozen=True, slots=True)
class LineResult:
    """How one line ended: its status, the call's request id (empty when it never reached the core)
    and the body as the caller of that route would have had it."""

    status: int
    request_id: str
    body: bytes
    resolved_model: str = ""  # the `fc:` model that served it; empty when refused

    @property
    def answered(self) -> bool:
        return self.status == 200


def refused(error: RingsideError, request_id: str = "") -> LineResult:
    return LineResult(error.status, request_id, error_body(error, request_id))


def error_code(result: LineResult) -> str:
    """The `error.code` of a line that did not answer 200 (`upstream` for a provider's own)."""
    if result.answered:
        return ""
    try:
        error = orjson.loads(result.body).get("error")
    except (orjson.JSONDecodeError, AttributeError):
        return "upstream"
    code = error.get("code") if isinstance(error, dict) else None
    return code[:64] if isinstance(code, str) else "upstream"


def file_line(custom_id: str, result: LineResult) -> bytes:
    """One line of the output or error file (newline included)."""
    try:
        body: Any = orjson.loads(result.body)
    except orjson.JSONDecodeError:
        body = {"error": {"type": "api_error", "code": "upstream_error", "message": "The answer was not JSON."}}
    line = {
        "id": new_sortable_id("batch_req"),
        "custom_id": custom_id,
        "response": {"status_code": result.status, "request_id": result.request_id or None, "body": body},
        "error": None,
    }
    return orjson.dumps(line) + b"\n"
