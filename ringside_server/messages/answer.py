"""A metered chat call's answer rewritten for Anthropic's Messages route: a complete body becomes a
message (or Anthropic's error body), a relay's OpenAI frames become Anthropic's events."""

from __future__ import annotations

from collections.abc import AsyncIterator

import orjson

from ringside_server.messages.response import error_bytes, message
from ringside_server.messages.stream import MessagesStream
from ringside_server.metering.request import Answer, Relay


def reshape(answer: Answer) -> Answer:
    if answer.relay is not None:
        relay = answer.relay
        return Answer(
            answer.status, answer.headers, relay=Relay(_events(relay), relay.closer), content_type=answer.content_type
        )
    if answer.status >= 400:
        return Answer(answer.status, answer.headers, error_bytes(answer.status, answer.body))
    parsed = orjson.loads(answer.body)  # the metered call checked it is a JSON object
    return Answer(answer.status, answer.headers, orjson.dumps(message(parsed)))


async def _events(relay: Relay) -> AsyncIterator[bytes]:
    stream = MessagesStream()
    async for frame in relay.events():
        for out in stream.frame(frame):
            yield out
