"""OpenAI's audio routes end to end with the real OpenAI SDK: speech's audio relayed and priced per
input character, transcriptions and translations (multipart) priced per second (whisper-1) or per
token (gpt-4o-transcribe) from the provider's usage, every format the client may ask for rendered
from the JSON Ringside always asks for, the test model's deterministic audio and transcripts,
402/429, bounds and bad input."""

from __future__ import annotations

import io
import wave
from decimal import Decimal

import openai
import pytest

from edge_http.openapi.document import load_document
from tests.e2e.test_chat_completions import client, new_customer, settled
from tests.e2e.test_openapi_live import Contract
from tests.fakes.openai_audio import SECONDS, TEXT
from tests.harness import Stack

RECORDING = ("hello.wav", b"RIFF" + b"\x00" * 64_000, "audio/wav")


def spend_nano(stack: Stack, customer: str, requests: int, key: str) -> int:
    return int(Decimal(str(settled(stack, customer, requests, key)["spend_usd_mtd"])).scaleb(9))


def test_a_test_key_speaks_a_deterministic_wav_and_transcribes(stack: Stack) -> None:
    sdk = client(stack, stack.test_key)
    raw = sdk.audio.speech.with_raw_response.create(
        model="fc:openai/tts-1", voice="alloy", input="Hello there", response_format="wav"
    )
    assert raw.headers["x-ringside-model-resolved"] == "fc:openai/tts-1"
    assert raw.headers["content-type"].startswith("audio/wav")
    audio = raw.content
    with wave.open(io.BytesIO(audio)) as parsed:
        assert (parsed.getframerate(), parsed.getnchannels(), parsed.getnframes()) == (24_000, 1, 11 * 1_200)
    again = sdk.audio.speech.create(model="fc:openai/tts-1", voice="alloy", input="Hello there", response_format="wav")
    assert again.read() == audio
    text = sdk.audio.transcriptions.create(model="fc:openai/whisper-1", file=RECORDING)
    assert text.text.startswith("This is Ringside's test transcript")
    verbose = sdk.audio.translations.create(model="fc:openai/whisper-1", file=RECORDING, response_format="verbose_json")
    assert verbose.text == text.text


def test_speech_is_relayed_and_priced_per_character(stack: Stack) -> None:
    tenant = stack.new_account()
    customer = str(new_customer(stack, tenant["live"])["id"])
    text = "Ringside meters speech by the character." * 10
    audio = client(stack, tenant["live"]).audio.speech.create(
        model="fc:openai/tts-1-hd", voice="nova", input=text, extra_headers={"FC-Customer": customer}
    )
    assert audio.read().startswith(b"ID3") and audio.response.headers["content-type"].startswith("audio/mpeg")
    assert audio.response.headers["transfer-encoding"] == "chunked"  # relayed as it came, not buffered
    assert stack.upstream is not None
    assert stack.upstream.requests()[-1]["body"] == {"model": "tts-1-hd", "voice": "nova", "input": text}
    assert spend_nano(stack, customer, 1, tenant["live"]) == len(text) * 30 * 1000  # $30 per 1M characters


def test_transcriptions_are_priced_per_second_or_per_token_in_every_format(stack: Stack) -> None:
    tenant = stack.new_account()
    customer = str(new_customer(stack, tenant["live"])["id"])
    sdk = client(stack, tenant["live"])
    headers = {"FC-Customer": customer}
    plain = sdk.audio.transcriptions.create(
        model="fc:openai/whisper-1", file=RECORDING, response_format="text", extra_headers=headers
    )
    assert plain == TEXT + "\n"
    assert stack.upstream is not None
    sent = stack.upstream.requests()[-1]["body"]
    assert sent["response_format"] == "json" and sent["model"] == "whisper-1"
    assert sent["file"] == [{"filename": "hello.wav", "content_type": "audio/wav", "bytes": len(RECORDING[1])}]
    srt = sdk.audio.transcriptions.create(
        model="fc:openai/whisper-1", file=RECORDING, response_format="srt", extra_headers=headers
    )
    assert srt.startswith("1\n00:00:00,000 --> 00:00:03,500\nBonjour,\n\n2\n00:00:03,500 --> 00:00:06,250\n")
    vtt = sdk.audio.translations.create(
        model="fc:openai/whisper-1", file=RECORDING, response_format="vtt", extra_headers=headers
    )
    assert vtt.startswith("WEBVTT\n\n00:00:00.000 --> 00:00:03.500\nBonjour,\n")
    tokens = sdk.audio.transcriptions.create(model="fc:openai/gpt-4o-transcribe", file=RECORDING, extra_headers=headers)
    assert tokens.text == TEXT
    # whisper-1: $0.0001 a second (the fake reports 7 s, three times); gpt-4o-transcribe: 70 audio
    # tokens at $6/M, 10 text tokens at $2.5/M, 12 output tokens at $10/M
    whisper = 3 * SECONDS * 100_000
    gpt = -(-(70 * 6_000_000_000 + 10 * 2_500_000_000 + 12 * 10_000_000_000) // 1_000_000)
    assert spend_nano(stack, customer, 4, tenant["live"]) == whisper + gpt


@pytest.mark.parametrize("key_mode", ["test", "live"])
def test_a_streamed_transcription_relays_openais_events_and_settles_its_usage(stack: Stack, key_mode: str) -> None:
    tenant = stack.new_account()
    key = tenant[key_mode]
    customer = str(new_customer(stack, key)["id"])
    events = list(
        client(stack, key).audio.transcriptions.create(
            model="fc:openai/gpt-4o-transcribe", file=RECORDING, stream=True, extra_headers={"FC-Customer": customer}
        )
    )
    assert [event.type for event in events[-2:]] == ["transcript.text.delta", "transcript.text.done"]
    done = events[-1]
    assert "".join(e.delta for e in events[:-1]).strip() == done.text.strip()  # type: ignore[union-attr]
    usage = done.usage  # type: ignore[union-attr]
    assert usage is not None and usage.type == "tokens" and usage.input_token_details is not None
    audio_tokens = usage.input_token_details.audio_tokens or 0
    text_tokens = usage.input_tokens - audio_tokens
    cost = audio_tokens * 6_000_000_000 + text_tokens * 2_500_000_000 + usage.output_tokens * 10_000_000_000
    assert spend_nano(stack, customer, 1, key) == -(-cost // 1_000_000)


def test_a_budget_that_cannot_pay_is_402_and_a_rate_limit_429(stack: Stack) -> None:
    broke = str(new_customer(stack, stack.test_key, budget_usd=0)["id"])
    sdk = client(stack, stack.test_key)
    with pytest.raises(openai.APIStatusError) as refused:
        sdk.audio.speech.create(model="fc:openai/tts-1", voice="alloy", input="x", extra_headers={"FC-Customer": broke})
    assert refused.value.status_code == 402
    limited = str(new_customer(stack, stack.test_key, rate_limit_rpm=1)["id"])
    sdk.audio.transcriptions.create(model="fc:openai/whisper-1", file=RECORDING, extra_headers={"FC-Customer": limited})
    with pytest.raises(openai.RateLimitError):
        sdk.audio.transcriptions.create(
            model="fc:openai/whisper-1", file=RECORDING, extra_headers={"FC-Customer": limited}
        )


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "fc:openai/tts-1", "voice": "alloy", "input": ""}, "input"),
        ({"model": "fc:openai/tts-1", "voice": "alloy", "input": "x" * 4097}, "input"),
        ({"model": "fc:openai/tts-1", "input": "x"}, "voice"),
        ({"model": "fc:openai/tts-1", "voice": "alloy", "input": "x", "response_format": "ogg"}, "response_format"),
        ({"model": "fc:openai/tts-1", "voice": "alloy", "input": "x", "speed": 9}, "speed"),
        ({"model": "fc:openai/whisper-1", "voice": "alloy", "input": "x"}, "model"),  # not a speech model
    ],
)
def test_bad_speech_is_400(stack: Stack, body: dict[str, object], param: str) -> None:
    response = stack.call("POST", "/v1/audio/speech", stack.test_key, body)
    assert response.status == 400, response.body
    assert response.json()["error"]["param"] == param


def test_bad_transcriptions_are_400(stack: Stack) -> None:
    sdk = client(stack, stack.test_key)
    with pytest.raises(openai.BadRequestError) as empty:
        sdk.audio.transcriptions.create(model="fc:openai/whisper-1", file=("a.wav", b"", "audio/wav"))
    assert empty.value.body["param"] == "file"  # type: ignore[index]
    with pytest.raises(openai.BadRequestError) as streamed:
        sdk.audio.transcriptions.create(model="fc:openai/whisper-1", file=RECORDING, stream=True)
    assert streamed.value.body["param"] == "stream"  # type: ignore[index]  # whisper-1 does not stream
    with pytest.raises(openai.BadRequestError) as wrong_kind:
        sdk.audio.transcriptions.create(model="fc:openai/tts-1", file=RECORDING)
    assert wrong_kind.value.body["param"] == "model"  # type: ignore[index]


@pytest.mark.parametrize("response_format", ["json", "verbose_json"])
@pytest.mark.parametrize("key_mode", ["test", "live"])
def test_transcripts_validate_against_openais_published_schema(
    stack: Stack, response_format: str, key_mode: str
) -> None:
    key = stack.test_key if key_mode == "test" else stack.live_key
    contract = Contract(load_document())
    for route in ("transcriptions", "translations"):
        raw = client(stack, key).audio.with_raw_response
        endpoint = raw.transcriptions if route == "transcriptions" else raw.translations
        answer = endpoint.create(  # type: ignore[attr-defined]
            model="fc:openai/whisper-1", file=RECORDING, response_format=response_format
        ).http_response
        body = answer.json()
        pointer = contract.schema_pointer("POST", f"/v1/audio/{route}", answer.status_code)
        assert contract.errors(pointer, body) == [], (route, body)
