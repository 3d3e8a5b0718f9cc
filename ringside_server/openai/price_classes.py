"""Which priced classes a request can incur, read from its body (API.md "Budgets": the estimate
prices text unless the request carries audio or images, or asks for audio output).

Errs towards more classes: a content part this module does not know as text (a new part type, a
file) counts as both audio and image input, so the estimate stays an upper bound of what the
provider can bill for the request.
"""

from __future__ import annotations

from typing import Any

from ringside_server.admission import PriceClasses

TEXT_PART_TYPES = frozenset({"text", "input_text", "output_text", "refusal"})
IMAGE_PART_TYPES = frozenset({"image_url", "image", "input_image"})
AUDIO_PART_TYPES = frozenset({"input_audio", "audio"})
MAX_PARTS_READ = 100_000  # bodies are bounded (32 MiB); past this many parts, assume everything


def _part_classes(part: Any) -> tuple[bool, bool]:
    """(audio input, image input) one content part can incur."""
    if isinstance(part, str):
        return False, False
    kind = part.get("type") if isinstance(part, dict) else None
    if kind in TEXT_PART_TYPES:
        return False, False
    if kind in IMAGE_PART_TYPES:
        return False, True
    if kind in AUDIO_PART_TYPES:
        return True, False
    return True, True  # files, documents, anything new: priced at every input class


def chat_classes(body: dict[str, Any]) -> PriceClasses:
    """A chat completion's classes: its messages' content parts (and an assistant's earlier audio
    answer, which is billed as audio input); audio output when `modalities` names it or `audio`
    is given."""
    audio_input = image_input = False
    parts_read = 0
    messages = body.get("messages")
    for message in messages if isinstance(messages, list) else []:
        if not isinstance(message, dict):
            continue
        if message.get("audio") is not None:
            audio_input = True
        content = message.get("content")
        parts = content if isinstance(content, list) else []
        parts_read += len(parts)
        if parts_read > MAX_PARTS_READ:
            audio_input = image_input = True
            break
        for part in parts:
            audio, image = _part_classes(part)
            audio_input, image_input = audio_input or audio, image_input or image
    modalities = body.get("modalities")
    audio_output = body.get("audio") is not None or (isinstance(modalities, list) and "audio" in modalities)
    return PriceClasses(audio_input=audio_input, image_input=image_input, audio_output=audio_output)


def moderation_classes(body: dict[str, Any]) -> PriceClasses:
    """A moderation's input is text, a list of texts, or a list of text and image parts."""
    given = body.get("input")
    parts = given if isinstance(given, list) else []
    image_input = any(_part_classes(part)[1] for part in parts[:MAX_PARTS_READ]) or len(parts) > MAX_PARTS_READ
    return PriceClasses(image_input=image_input)


TEXT_ONLY = PriceClasses()
