"""The two log formats render a request line's fields: top-level keys in JSON, key=value in text."""

from __future__ import annotations

import json
import logging

from ringside_server.observability.logs import JsonFormatter, TextFormatter

FIELDS = {"request_id": "req_1", "route": "/v1/chat/completions", "status": 402, "error_code": "wallet_empty"}


def record() -> logging.LogRecord:
    made = logging.LogRecord("ringside.requests", logging.INFO, __file__, 1, "POST %s %d", ("/v1/x", 402), None)
    made.fields = {**FIELDS, "customer_id": None}
    return made


def test_json_puts_the_fields_at_the_top_level() -> None:
    line = json.loads(JsonFormatter("edge").format(record()))
    assert line["message"] == "POST /v1/x 402" and line["role"] == "edge" and line["level"] == "info"
    assert {key: line[key] for key in FIELDS} == FIELDS and line["customer_id"] is None


def test_text_appends_the_fields_it_has() -> None:
    line = TextFormatter().format(record())
    assert line.endswith(
        "POST /v1/x 402 request_id=req_1 route=/v1/chat/completions status=402 error_code=wallet_empty"
    )
