"""The CLI's HTTP client: it speaks to the edge as the key it is given, like any API user.

The key: `--api-key`, else `RINGSIDE_API_KEY`, else the one `ringside up` saved in the data dir's
credentials.json for `--mode` (test by default). The base URL: `--base-url`, else
`RINGSIDE_BASE_URL` (with or without `/v1`, as the SDKs take it), else this installation's edge.
"""

from __future__ import annotations

import json
import os
import pathlib
import secrets
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ringside_server.settings import CREDENTIALS_FILE, Settings

TIMEOUT_S = 30.0
UPLOAD_CHUNK = 256 * 1024
MAX_RESPONSE_BYTES = 64 * 1024 * 1024


class ApiError(Exception):
    """An error answer in Ringside's envelope (or no answer at all: status 0)."""

    def __init__(self, status: int, code: str, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.param = status, code, message, param


class KeyMissing(Exception):
    """No key given and none saved for the asked mode."""


def resolve_key(settings: Settings, explicit: str | None, mode: str) -> str:
    key = explicit or os.environ.get("RINGSIDE_API_KEY", "")
    if key:
        return key
    path = settings.data_dir / CREDENTIALS_FILE
    try:
        saved = json.loads(path.read_text())
    except (OSError, ValueError):
        raise KeyMissing(
            f"no API key: pass --api-key, set RINGSIDE_API_KEY, or run `ringside up` first (it saves keys to {path})"
        ) from None
    return str(saved["test_api_key" if mode == "test" else "api_key"])


def resolve_base_url(settings: Settings, explicit: str | None) -> str:
    url = explicit or os.environ.get("RINGSIDE_BASE_URL", "") or f"http://{settings.bind_host}:{settings.http_port}"
    url = url.rstrip("/")
    return url.removesuffix("/v1")


@dataclass(frozen=True, slots=True)
class Api:
    base_url: str
    key: str

    def call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        query: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """One request; the parsed JSON answer, or ApiError with the envelope's code and message."""
        params = {name: value for name, value in (query or {}).items() if value is not None}
        url = self.base_url + path + ("?" + urllib.parse.urlencode(params) if params else "")
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
        if data is not None:
            request.add_header("Content-Type", "application/json")
        return self._send(request)

    def upload(self, path: pathlib.Path, purpose: str, headers: dict[str, str] | None = None) -> Any:
        """POST /v1/files as multipart, the file streamed from disk (never read whole)."""
        boundary = "ringside-" + secrets.token_hex(16)
        name = path.name.replace('"', "_").replace("\r", "_").replace("\n", "_")
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\n{purpose}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        tail = f"\r\n--{boundary}--\r\n".encode()

        def body() -> Iterator[bytes]:
            yield head
            with path.open("rb") as stream:
                while chunk := stream.read(UPLOAD_CHUNK):
                    yield chunk
            yield tail

        size = len(head) + path.stat().st_size + len(tail)
        request = urllib.request.Request(self.base_url + "/v1/files", data=body(), method="POST", headers=headers or {})
        request.add_header("Content-Type", f"multipart/form-data; boundary={boundary}")
        request.add_header("Content-Length", str(size))
        return self._send(request)

    def _send(self, request: urllib.request.Request) -> Any:
        request.add_header("Authorization", f"Bearer {self.key}")
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
                return json.loads(response.read(MAX_RESPONSE_BYTES) or b"null")
        except urllib.error.HTTPError as error:
            raise _api_error(error.code, error.read(MAX_RESPONSE_BYTES)) from None
        except (urllib.error.URLError, OSError) as error:
            raise ApiError(0, "unreachable", f"no answer from {self.base_url} ({error}); is Ringside up?") from None

    def pages(self, path: str, query: dict[str, Any], limit: int) -> list[dict[str, Any]]:
        """Up to `limit` objects of a Ringside list, following `starting_after`."""
        found: list[dict[str, Any]] = []
        after = None
        while len(found) < limit:
            size = min(100, limit - len(found))
            page = self.call("GET", path, query={**query, "limit": size, "starting_after": after})
            found += page["data"]
            if not page.get("has_more") or not page["data"]:
                break
            after = page["data"][-1]["id"]
        return found


def _api_error(status: int, payload: bytes) -> ApiError:
    try:
        error = json.loads(payload)["error"]
        return ApiError(status, str(error.get("code")), str(error.get("message")), error.get("param"))
    except (ValueError, KeyError, TypeError):
        return ApiError(status, "http_error", f"HTTP {status}: {payload[:200]!r}")


def read_health(base_url: str) -> dict[str, Any]:
    """The edge's /healthz body (200 ready, 503 starting), or why there is none."""
    try:
        with urllib.request.urlopen(base_url + "/healthz", timeout=TIMEOUT_S) as response:
            return dict(json.loads(response.read(MAX_RESPONSE_BYTES)))
    except urllib.error.HTTPError as error:
        try:
            return dict(json.loads(error.read(MAX_RESPONSE_BYTES)))
        except ValueError:
            return {"status": "error", "detail": f"HTTP {error.code}"}
    except (urllib.error.URLError, OSError, ValueError) as error:
        return {"status": "unreachable", "detail": str(error)}
