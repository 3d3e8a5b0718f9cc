"""Log output for every role: `RINGSIDE_LOG_FORMAT=text` (a terminal's lines) or `json` (one
object a line, for a log pipeline), with the request lines' fields either way.

A record's structured fields travel in `extra={"fields": {...}}`: JSON puts them at the top level,
text appends them as key=value. Fields name objects by id only (API.md "Conventions → Logs").
"""

from __future__ import annotations

import atexit
import logging
import logging.handlers
import queue
import sys
from datetime import UTC, datetime
from typing import Any

import orjson

from ringside_server.redaction import RedactionFilter

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
FIELDS = "fields"


def fields_of(record: logging.LogRecord) -> dict[str, Any]:
    found = getattr(record, FIELDS, None)
    return found if isinstance(found, dict) else {}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, role, message, then the record's fields."""

    def __init__(self, role: str) -> None:
        super().__init__()
        self.role = role

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "role": self.role,
            "message": record.getMessage(),
        }
        entry.update(fields_of(record))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


class TextFormatter(logging.Formatter):
    """The usual line, with the record's fields appended as key=value."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extra = fields_of(record)
        if not extra:
            return line
        return line + " " + " ".join(f"{key}={value}" for key, value in extra.items() if value not in ("", None))


def configure(level: str, log_format: str, role: str) -> None:
    """The root logger of this process, to stderr, in the chosen format. Records are formatted and
    written by a thread of their own (a QueueListener): a slow reader of stderr (a full pipe, a log
    shipper that lags) never blocks the event loop that logged them."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(role) if log_format == "json" else TextFormatter())
    handler.addFilter(RedactionFilter())  # what is written passes the one redaction filter (issue 15)
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    listener = logging.handlers.QueueListener(records, handler)
    listener.start()
    atexit.register(listener.stop)  # writes out what is queued
    root = logging.getLogger()
    root.handlers[:] = [logging.handlers.QueueHandler(records)]
    root.setLevel(level.upper())
    logging.getLogger("alembic").setLevel(logging.WARNING)


def json_line(role: str, message: str, level: str = "info", **fields: Any) -> str:
    """A line for a process that prints rather than logs (`ringside up` itself), in the JSON shape."""
    record = logging.LogRecord(role, logging.getLevelName(level.upper()), "", 0, message, None, None)
    setattr(record, FIELDS, fields)
    return JsonFormatter(role).format(record)
