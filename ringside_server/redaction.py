"""One redaction filter for every log line (API.md "Logs", issue 15 item 2).

Logs name objects by id only. Code is written that way; this filter is the net under it, for what
code does not control — an exception's message quoting a header, a library logging a request, a
traceback's repr of a value. It rewrites a record's message (arguments merged in) and its formatted
traceback, replacing every secret-shaped or personal-shaped token with `[redacted]`.

A standalone `logging.Filter`: put it on the handlers (`install`) so every logger, ours and the
libraries', goes through it; structured (JSON) request logs use the same `redact`.
"""

from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"
_PATTERNS = (
    # Ringside's keys and tokens: API keys, the operator's admin and internal tokens, Stripe's
    # secret and restricted keys, webhook signing secrets
    r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9_\-]{4,}",
    r"\bsk_[A-Za-z0-9_\-]{16,}",
    r"\bwhsec_[A-Za-z0-9+/=_\-]{4,}",
    r"\brs(?:admin|int)_[A-Za-z0-9_\-]{4,}",
    # JWTs (Client Tokens) and whatever follows an auth scheme
    r"\beyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*",
    r"\b(?:[Bb]earer|BEARER|[Cc]lient|[Bb]asic)\s+[A-Za-z0-9._~+/=\-]{8,}",
    # email addresses
    r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}",
)
_SECRET = re.compile("|".join(f"(?:{pattern})" for pattern in _PATTERNS))


def redact(text: str) -> str:
    """`text` with every key, token, secret and email replaced by `[redacted]`."""
    return _SECRET.sub(REDACTED, text)


class RedactionFilter(logging.Filter):
    """Rewrites each record in place (never drops one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed call: keep its parts, redacted
            message = f"{record.msg} {record.args}"
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def install(logger: logging.Logger | None = None) -> RedactionFilter:
    """Put one RedactionFilter on every handler of `logger` (the root by default)."""
    target = logger or logging.getLogger()
    redaction = RedactionFilter()
    for handler in target.handlers:
        if not any(isinstance(existing, RedactionFilter) for existing in handler.filters):
            handler.addFilter(redaction)
    return redaction
