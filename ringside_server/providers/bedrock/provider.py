"""The Bedrock provider: OpenAI requests in, Converse / ConverseStream on the wire, OpenAI out.

Auth as boto3 does it: a Bedrock API key (`AWS_BEARER_TOKEN_BEDROCK`) as a Bearer token, else
SigV4 signed by botocore (an optional dependency: `ringside[bedrock]`), never by hand.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import quote

import orjson
from yarl import URL

from ringside_server.providers.bedrock import eventstream, translate
from ringside_server.providers.openai_compat import OpenAICompatProvider
from ringside_server.providers.translated import TranslatedResponse, Translation, json_object

Signer = Callable[[str, bytes], dict[str, str]]


def sigv4_signer(access_key: str, secret_key: str, session_token: str | None, region: str) -> Signer:
    """Headers that sign one request (SigV4, service `bedrock`); ImportError without botocore."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    auth = SigV4Auth(Credentials(access_key, secret_key, session_token), "bedrock", region)

    def sign(url: str, data: bytes) -> dict[str, str]:
        signed = AWSRequest(method="POST", url=url, data=data, headers={"Content-Type": "application/json"})
        auth.add_auth(signed)
        return {str(k): str(v) for k, v in signed.headers.items()}

    return sign


TRANSLATION = Translation(
    completion=translate.completion,
    error=lambda payload, status: translate.error(payload, status),
    stream=None,  # binary: read by BedrockResponse.lines
    statuses={},
)


class BedrockResponse(TranslatedResponse):
    """A Converse answer: errors are named by a header; the stream is AWS's binary event stream."""

    def error_envelope(self, payload: bytes) -> dict[str, Any]:
        return translate.error(payload, self.status, self.header("x-amzn-ErrorType") or "")[1]

    async def lines(self) -> AsyncIterator[bytes]:
        translator = translate.ConverseStream()
        async for headers, payload in eventstream.messages(self._upstream.chunks()):
            if headers.get(":message-type") == "exception":
                kind = headers.get(":exception-type", "")
                frames = [b"data: " + orjson.dumps(translate.error(payload, 500, kind)[1]) + b"\n\n"]
            else:
                frames = translator.event(headers.get(":event-type", ""), json_object(payload) or {})
            for frame in frames:
                yield frame[:-1]
                yield b"\n"


class BedrockProvider:
    def __init__(self, http: OpenAICompatProvider, base_url: str, signer: Signer | None) -> None:
        self.id = http.id
        self._http = http
        self._base = base_url.rstrip("/") + "/model/"
        self._signer = signer

    async def chat_completions(self, body: dict[str, Any]) -> BedrockResponse:
        streaming = bool(body.get("stream"))
        url = (
            self._base + quote(str(body.get("model", "")), safe="") + ("/converse-stream" if streaming else "/converse")
        )
        data = orjson.dumps(translate.request(body))
        signed = self._signer(url, data) if self._signer else None
        upstream = await self._http.post_bytes(URL(url, encoded=True), data, signed)
        return BedrockResponse(upstream, streaming, TRANSLATION)
