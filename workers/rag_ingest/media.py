"""Images and audio in vector stores (issue 17): read through the model refs the operator configures
— RINGSIDE_RAG_VISION_MODEL (a vision-capable chat model: the image's text and what it shows) and
RINGSIDE_RAG_TRANSCRIPTION_MODEL (audio to text) — each call metered like any other, as the
attaching key's, to the store's owner ("you pay parse tokens for what the parser actually ran").
Without the setting the file fails `unsupported_file`, its message naming the setting. The model is
served as a metered call's is (`Gateway.provider_for`): under a test key the test model answers
(deterministically, offline), under a live key the configured provider."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from rag.errors import IngestError
from ringside.core.v1 import common_pb2, metering_pb2
from ringside_server.core_client import CoreClient
from ringside_server.errors import RingsideError
from ringside_server.openai.multipart import FilePart
from ringside_server.providers import capabilities
from ringside_server.providers.base import Provider
from ringside_server.providers.catalog.load import CatalogModel
from workers.rag_ingest.embedding import sent
from workers.rag_ingest.holds import OpenHold, Refused

MAX_MEDIA_BYTES = 25 * 1024 * 1024  # OpenAI's bound on a transcription upload; images well inside it
VISION_OUTPUT_TOKENS = 2048
VISION_PROMPT = (
    "Transcribe all text in this image exactly, then describe what the image shows, for a search index. "
    "Answer with plain text only."
)
SETTINGS = {"image": "RINGSIDE_RAG_VISION_MODEL", "audio": "RINGSIDE_RAG_TRANSCRIPTION_MODEL"}
IMAGE_TYPES = {b"\x89PNG": "image/png", b"\xff\xd8\xff": "image/jpeg", b"GIF8": "image/gif", b"RIFF": "image/webp"}


@dataclass(frozen=True)
class Payer:
    """Who a media call is metered as: the attaching key, to the store's owner, in its mode."""

    key_id: str
    customer_id: str
    livemode: bool


class MediaReader:
    def __init__(
        self,
        core: CoreClient,
        catalog: dict[str, CatalogModel],
        vision: str,
        transcription: str,
        provider_for: Callable[[CatalogModel, bool], Provider],
    ) -> None:
        self._core = core
        self._provider_for = provider_for  # the test model for a test key, else the configured provider
        self._models = {"image": vision, "audio": transcription}
        self._catalog = catalog

    def _model(self, kind: str) -> CatalogModel:
        ref = self._models.get(kind) or ""
        noun = "Images" if kind == "image" else "Audio files"
        if not ref:
            raise IngestError(
                "unsupported_file",
                f"{noun} are read only where {SETTINGS[kind]} names a model ref "
                f"({'a vision-capable chat model' if kind == 'image' else 'a transcription model'}); it is not set.",
            )
        model = self._catalog.get(ref)
        wanted = "chat" if kind == "image" else "transcription"
        if model is None or model.kind != wanted or (kind == "image" and "vision" not in model.capabilities):
            raise IngestError("server_error", f"{SETTINGS[kind]}={ref[:100]} is not a {wanted} model that fits.")
        return model

    async def text_of(self, kind: str, data: bytes, filename: str, payer: Payer, hold: OpenHold) -> str:
        """The file's text through the configured model (a metered call, its hold in `hold`: the
        ingest attempt's, whose heartbeat carries it; one the core could not settle through its
        retries stays open there, for the caller to settle once the text is cached)."""
        model = self._model(kind)
        if len(data) > MAX_MEDIA_BYTES:
            raise IngestError("invalid_file", f"The file is larger than {MAX_MEDIA_BYTES // (1024 * 1024)} MiB.")
        try:
            provider = self._provider_for(model, payer.livemode)
        except RingsideError as error:  # a live key and no provider configured: said before any hold
            raise IngestError("server_error", f"Reading the file with {model.ref}: {error.message}") from error
        try:
            await hold.admit(
                key_id=payer.key_id,
                customer_id=payer.customer_id,
                model=model,
                input_tokens_bound=len(data) + model.max_image_tokens + len(VISION_PROMPT),
                output_tokens=VISION_OUTPUT_TOKENS if kind == "image" else 0,
            )
        except Refused as refused:
            raise IngestError("server_error", f"Reading the file was refused: {refused}") from None
        try:
            text, usage = await (
                self._vision(provider, model, data)
                if kind == "image"
                else self._transcribe(provider, model, data, filename)
            )
        except BaseException:
            await hold.settle_leaving(metering_pb2.SETTLE_OUTCOME_FAILED)  # no answer: nothing used
            raise
        hold.used(usage)
        await hold.settle_leaving(metering_pb2.SETTLE_OUTCOME_COMPLETED)
        if not text.strip():
            raise IngestError("invalid_file", "The model found no text in the file.")
        return text

    async def _vision(self, provider: Provider, model: CatalogModel, data: bytes) -> tuple[str, common_pb2.TokenCounts]:
        media = next((kind for magic, kind in IMAGE_TYPES.items() if data.startswith(magic)), "image/png")
        url = f"data:{media};base64,{base64.b64encode(data).decode()}"
        body: dict[str, Any] = {
            "model": model.name,
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": VISION_PROMPT},
                        {"type": "image_url", "image_url": {"url": url}},
                    ],
                }
            ],
            "max_completion_tokens": VISION_OUTPUT_TOKENS,
        }
        parsed = await _answer(provider, "chat", body)
        usage = parsed.get("usage") or {}
        counts = common_pb2.TokenCounts(
            input_tokens=int(usage.get("prompt_tokens", 0)), output_tokens=int(usage.get("completion_tokens", 0))
        )
        return str(parsed["choices"][0]["message"].get("content") or ""), counts

    async def _transcribe(
        self, provider: Provider, model: CatalogModel, data: bytes, filename: str
    ) -> tuple[str, common_pb2.TokenCounts]:
        body = {"model": model.name, "file": FilePart(filename[:200], "application/octet-stream", data)}
        parsed = await _answer(provider, "transcriptions", body)
        usage = parsed.get("usage") or {}
        if usage.get("type") == "duration":  # whisper-1: priced per second of audio
            counts = common_pb2.TokenCounts(audio_input_tokens=int(usage.get("seconds", 0)))
        else:
            details = usage.get("input_token_details") or {}
            counts = common_pb2.TokenCounts(
                input_tokens=int(details.get("text_tokens", 0)),
                audio_input_tokens=int(details.get("audio_tokens", 0)),
                output_tokens=int(usage.get("output_tokens", 0)),
            )
        return str(parsed.get("text", "")), counts


async def _answer(provider: Provider, route: capabilities.Route, body: dict[str, Any]) -> dict[str, Any]:
    try:
        status, raw = await sent(provider, body, route)
    except RingsideError as error:  # the provider could not be reached or hung up: the ingest fails
        raise IngestError("server_error", f"The model could not read the file: {error.message}") from error
    return _json(raw, status)


def _json(body: bytes, status: int) -> dict[str, Any]:
    if status != 200:
        raise IngestError("server_error", f"The model refused the file ({status}).")
    parsed = orjson.loads(body)
    if not isinstance(parsed, dict):
        raise IngestError("server_error", "The model's answer was not an object.")
    return parsed
