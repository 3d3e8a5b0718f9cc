"""ringside_server/redaction.py: no key, token, secret or email reaches a log line (API.md "Logs")."""

from __future__ import annotations

import io
import logging

import pytest

from ringside_server.redaction import REDACTED, RedactionFilter, install, redact

SECRETS = [
    "sk_live_6sPkhbRLFILBNFOARAlG9RGR4MVbBo1jX3I8iKRz",
    "sk_test_aHuhHgr1KwkIRylqBk3v2QQt9a9uxBIOilOWWaex",
    "rk_live_51Habcdefghijklmnop",
    "sk_51HabcdefghijklmnopqrstuvwxYZ",  # a Stripe secret key
    "whsec_Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA==",
    "rsadmin_tttttttttttttttttttttttttttttttt",
    "rsint_a52574524d3b296f297ff7f612b2128b",
    "eyJhbGciOiJFZERTQSIsImtpZCI6ImsxIn0.eyJzdWIiOiJjdXNfMSJ9.c2lnbmF0dXJlX2J5dGVz",
    "jane.doe+billing@example.co.uk",
]


@pytest.mark.parametrize("secret", SECRETS)
def test_every_secret_shape_is_redacted_wherever_it_sits(secret: str) -> None:
    for text in (secret, f"key={secret}", f"'{secret}'", f"Bearer {secret}", f'{{"secret": "{secret}"}}'):
        assert secret not in redact(text)
        assert REDACTED in redact(text)


def test_ids_and_ordinary_words_are_kept() -> None:
    text = "customer cus_8fbf79fcd0404021 of acct_12ab charged 1200 nano-USD on req_abc (skipped, risky)"
    assert redact(text) == text


def test_a_logger_s_message_arguments_and_traceback_are_redacted() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("test.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    install(logger)
    try:
        try:
            raise ValueError(f"bad header Authorization: Bearer {SECRETS[0]} for {SECRETS[-1]}")
        except ValueError:
            logger.exception("failed with %s and %r", SECRETS[4], {"stripe": SECRETS[3]})
        logging.getLogger("test.redaction.child").warning("child %s", SECRETS[7])
    finally:
        logger.removeHandler(handler)
    written = stream.getvalue()
    assert "ValueError" in written and "child" in written
    for secret in SECRETS:
        assert secret not in written


def test_install_puts_one_filter_on_each_handler_once() -> None:
    logger = logging.getLogger("test.redaction.once")
    handler = logging.StreamHandler(io.StringIO())
    logger.addHandler(handler)
    install(logger)
    install(logger)
    assert sum(isinstance(f, RedactionFilter) for f in handler.filters) == 1
    logger.removeHandler(handler)
