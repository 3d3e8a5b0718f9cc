"""Hostile input (issue 15, items 1 and 3): every root cause of the 500s found by fuzzing is a 400
(or 405, 413) in the error envelope, on SQLite and PostgreSQL; nothing echoes bad bytes; an anonymous
body is never read; `x-api-key` is a key like Bearer."""

from __future__ import annotations

import gzip
import json
import socket
from typing import Any

import pytest

from tests.harness import ADMIN_KEY, Stack

ENVELOPE_FIELDS = {"type", "code", "message", "param", "request_id", "retry_after_seconds"}


def raw(stack: Stack, data: bytes, timeout_s: float = 30) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are on a fresh connection; (status, headers, body) of the answer."""
    with socket.create_connection(("127.0.0.1", stack.http_port), timeout=timeout_s) as connection:
        connection.sendall(data)
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = connection.recv(65536)
            if not chunk:
                break
            received += chunk
        head, _, body = received.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        length = int(headers.get("content-length", "0"))
        while len(body) < length:
            chunk = connection.recv(65536)
            if not chunk:
                break
            body += chunk
        return int(lines[0].split()[1]), headers, body


def envelope(status: int, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    error: dict[str, Any] = json.loads(body)["error"]
    assert set(error) == ENVELOPE_FIELDS, body
    assert error["request_id"] == headers["x-request-id"]
    assert status < 500, body
    return error


def call(stack: Stack, method: str, path: str, key: str | None, body: Any) -> tuple[int, dict[str, Any]]:
    response = stack.call(method, path, key, body)
    return response.status, response.json()


@pytest.mark.parametrize(
    ("path", "body", "param"),
    [
        ("/v1/accounts/{account}/balance/topup", {"amount_usd": 1e30}, "amount_usd"),
        ("/v1/accounts/{account}/balance/topup", {"amount_usd": "1e999999999"}, "amount_usd"),
        ("/v1/accounts/{account}/balance/topup", {"amount_usd": "9223372036854775808"}, "amount_usd"),
        ("/v1/tiers", {"name": "t", "markup_pct": 1.3e154}, "markup_pct"),
        ("/v1/tiers", {"name": "t", "markup_pct": "1e999999999"}, "markup_pct"),
        ("/v1/tiers", {"name": "t", "markup_pct": "sNaN"}, "markup_pct"),
        ("/v1/tiers", {"name": "t", "budget_usd": "1e999999999"}, "budget_usd"),
        ("/v1/tiers", {"name": "t", "budget_usd": "sNaN"}, "budget_usd"),
        ("/v1/tiers", {"name": "t", "budget_usd": "-Infinity"}, "budget_usd"),
        ("/v1/customers", {"name": "c", "rate_limit_rpm": 2**64}, "rate_limit_rpm"),
        ("/v1/customers", {"name": "c", "wallet": {"enabled": True, "low_threshold_usd": "1e999999"}}, "wallet"),
    ],
)
def test_numbers_past_every_bound_are_a_400_naming_the_field(
    stack: Stack, path: str, body: dict[str, Any], param: str
) -> None:
    key = ADMIN_KEY if path.startswith("/v1/accounts") else stack.live_key
    account = stack.new_account()["id"]
    response = stack.call("POST", path.format(account=account), key, body)
    error = envelope(response.status, response.headers, response.body)
    assert (response.status, error["code"], error["param"]) == (400, "invalid_request", param)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/customers", {"name": "a\u0000b"}),
        ("/v1/customers", {"name": "a", "metadata": {"k": "v\u0000"}}),
        ("/v1/customers", {"name": "a", "external_id": "\u0000"}),
        ("/v1/tiers", {"name": "\u0000"}),
        ("/customer/new", {"user_id": "u\u0000"}),
    ],
)
@pytest.mark.both_backends
def test_a_nul_in_a_stored_text_field_is_a_400(stack: Stack, path: str, body: dict[str, Any]) -> None:
    response = stack.call("POST", path, stack.live_key, body)
    assert response.status == 400, response.body
    assert "NUL" in envelope(response.status, response.headers, response.body)["message"]


@pytest.mark.both_backends
def test_a_nul_in_a_path_or_a_cursor_is_a_400(stack: Stack) -> None:
    for path in ("/v1/customers/cus_%00", "/v1/customers?starting_after=%00", "/v1/tiers/%00x"):
        response = stack.call("GET", path, stack.live_key)
        assert response.status == 400, (path, response.body)
        envelope(response.status, response.headers, response.body)


def test_a_nul_in_a_prompt_is_relayed_but_a_4_mib_or_nul_user_is_a_400(stack: Stack) -> None:
    chat = {"model": "fc:openai/gpt-4o-mini", "messages": [{"role": "user", "content": "a\u0000b"}]}
    assert stack.call("POST", "/v1/chat/completions", stack.test_key, chat).status == 200
    for user in ("u" * (4 << 20), "u\u0000"):
        response = stack.call("POST", "/v1/chat/completions", stack.test_key, chat | {"user": user})
        error = envelope(response.status, response.headers, response.body)
        assert (response.status, error["param"]) == (400, "user")


@pytest.mark.parametrize(
    "header", ["Authorization: Bearer sk_live_\xff\xfe", "FC-Customer: \xff", "Idempotency-Key: \xc3"]
)
def test_header_bytes_that_are_not_utf8_are_a_400_that_does_not_echo_them(stack: Stack, header: str) -> None:
    auth = "" if header.startswith("Authorization") else f"Authorization: Bearer {stack.live_key}\r\n"
    body = b'{"name": "n"}'
    request = (
        f"POST /v1/customers HTTP/1.1\r\nHost: x\r\n{auth}{header}\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode("latin-1") + body
    status, headers, answer = raw(stack, request)
    error = envelope(status, headers, answer)
    assert status in (400, 401), answer
    assert b"\xff" not in answer and b"\\u00ff" not in answer.lower() and "\ufffd" not in error["message"]


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET /v1/customers HTTP/1.1\r\nHost: x\r\nBad\x01Header: 1\r\n\r\n",
        b"GET /v1/\xff\x00customers HTTP/1.1\r\nHost: x\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http\r\n\r\n",
        b"POST /v1/customers HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello",
    ],
)
def test_what_the_http_parser_refuses_is_answered_in_the_envelope(stack: Stack, request_bytes: bytes) -> None:
    status, headers, body = raw(stack, request_bytes)
    error = envelope(status, headers, body)
    assert status == 400 and error["code"] == "invalid_request"
    assert b"Bad" not in body and b"not http" not in body


def test_a_body_not_in_its_content_encoding_is_a_400(stack: Stack) -> None:
    garbage = b"not gzip at all" * 20_000  # more than one read: the rest of it cannot be drained either
    for encoding, body in (("gzip", b"not gzip at all"), ("gzip", garbage), ("br", b"\x00\x01\x02"), ("zstd", b"??")):
        request = (
            f"POST /v1/customers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {stack.live_key}\r\n"
            f"Content-Encoding: {encoding}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode() + body
        status, headers, answer = raw(stack, request)
        assert status == 400, (encoding, answer)
        envelope(status, headers, answer)
    good = gzip.compress(b'{"name": "gz"}')
    request = (
        f"POST /v1/customers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {stack.live_key}\r\n"
        f"Content-Encoding: gzip\r\nContent-Length: {len(good)}\r\nConnection: close\r\n\r\n"
    ).encode() + good
    assert raw(stack, request)[0] == 201
    assert "RequestPayloadError" not in stack.log("edge")  # answered and closed, never a traceback


def test_an_undeclared_method_is_a_405_in_the_envelope_with_allow(stack: Stack) -> None:
    response = stack.call("PUT", "/v1/customers", stack.live_key, {})
    error = envelope(response.status, response.headers, response.body)
    assert (response.status, error["code"]) == (405, "method_not_allowed")
    assert set(response.headers["allow"].replace(" ", "").split(",")) >= {"GET", "POST"}


def test_x_api_key_is_a_key_like_bearer(stack: Stack) -> None:
    good = stack.call("GET", "/v1/customers", headers={"x-api-key": stack.live_key})
    assert good.status == 200, good.body
    created = stack.call("POST", "/v1/customers", body={"name": "xk"}, headers={"x-api-key": stack.live_key})
    assert created.status == 201, created.body
    bad = stack.call("GET", "/v1/customers", headers={"x-api-key": "sk_live_nope"})
    assert (bad.status, bad.json()["error"]["code"]) == (401, "invalid_api_key")


def test_an_anonymous_body_is_refused_before_it_is_read(stack: Stack) -> None:
    """A 30 MB anonymous post gets its 401 while most of its body is still unsent."""
    for headers in ("", "Authorization: Bearer sk_live_forged\r\n"):
        with socket.create_connection(("127.0.0.1", stack.http_port), timeout=30) as connection:
            connection.sendall(
                f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n{headers}"
                f"Content-Length: {30_000_000}\r\n\r\n".encode()
                + b"{" * 1024
            )
            answer = connection.recv(65536)
        assert answer.startswith(b"HTTP/1.1 401"), answer[:200]


def test_bodies_past_their_route_bound_are_a_413(stack: Stack) -> None:
    big = {"name": "x", "metadata": {"k": "v" * 400}, "pad": "p" * (1 << 20)}
    response = stack.call("POST", "/v1/customers", stack.live_key, big)
    error = envelope(response.status, response.headers, response.body)
    assert (response.status, error["code"]) == (413, "payload_too_large")
    # the same size is within a model route's 32 MiB bound
    chat = {"model": "fc:openai/gpt-4o-mini", "messages": [{"role": "user", "content": "p" * (1 << 20)}]}
    assert stack.call("POST", "/v1/chat/completions", stack.test_key, chat).status == 200
    request = (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {stack.test_key}\r\n"
        f"Content-Length: {33 << 20}\r\n\r\n"
    ).encode()
    status, headers, answer = raw(stack, request)
    assert (status, envelope(status, headers, answer)["code"]) == (413, "payload_too_large")
