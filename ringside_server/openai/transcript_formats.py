"""A transcription's JSON answer rendered in the format the client asked for: `text`, `srt` and
`vtt` (from `verbose_json`'s segments), as OpenAI renders them."""

from __future__ import annotations

from typing import Any

CONTENT_TYPES = {"text": "text/plain", "srt": "text/plain", "vtt": "text/vtt"}


def _clock(seconds: float, separator: str) -> str:
    milliseconds = round(max(0.0, seconds) * 1000)
    hours, rest = divmod(milliseconds, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    whole, fraction = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{whole:02d}{separator}{fraction:03d}"


def _segments(answer: dict[str, Any]) -> list[tuple[float, float, str]]:
    segments = answer.get("segments")
    if not isinstance(segments, list) or not segments:
        duration = answer.get("duration")
        end = float(duration) if isinstance(duration, int | float) else 0.0
        return [(0.0, end, str(answer.get("text", "")))]
    return [
        (float(s.get("start", 0)), float(s.get("end", 0)), str(s.get("text", "")).strip())
        for s in segments
        if isinstance(s, dict)
    ]


def render(answer: dict[str, Any], response_format: str) -> bytes:
    """The body for `response_format` (text, srt or vtt)."""
    if response_format == "text":
        return (str(answer.get("text", "")) + "\n").encode()
    cues = _segments(answer)
    if response_format == "srt":
        blocks = [f"{i}\n{_clock(a, ',')} --> {_clock(b, ',')}\n{text}\n" for i, (a, b, text) in enumerate(cues, 1)]
        return ("\n".join(blocks) + "\n").encode()
    blocks = [f"{_clock(a, '.')} --> {_clock(b, '.')}\n{text}\n" for a, b, text in cues]
    return ("WEBVTT\n\n" + "\n".join(blocks) + "\n").encode()
