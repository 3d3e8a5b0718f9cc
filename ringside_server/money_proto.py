"""The money types on the wire (ringside.core.v1 Price, TokenCounts) ↔ ringside_server.money's, for the
core's servicers and the edge's leases alike."""

from __future__ import annotations

from ringside.core.v1 import common_pb2, metering_pb2
from ringside_server.admission import EVERY_CLASS, PriceClasses, estimate_rates
from ringside_server.money import Price, Usage


def price_from(message: common_pb2.Price) -> Price:
    return Price(
        input=message.input_nano_usd_per_mtok,
        cached_input=message.cached_input_nano_usd_per_mtok,
        cache_write=message.cache_write_nano_usd_per_mtok,
        output=message.output_nano_usd_per_mtok,
        reasoning=message.reasoning_nano_usd_per_mtok,
        audio_input=message.audio_input_nano_usd_per_mtok,
        audio_output=message.audio_output_nano_usd_per_mtok,
        image_input=message.image_input_nano_usd_per_mtok,
    )


def usage_from(message: common_pb2.TokenCounts) -> Usage:
    return Usage(
        input_tokens=message.input_tokens,
        cached_input_tokens=message.cached_input_tokens,
        cache_write_tokens=message.cache_write_tokens,
        output_tokens=message.output_tokens,
        reasoning_tokens=message.reasoning_tokens,
        audio_input_tokens=message.audio_input_tokens,
        audio_output_tokens=message.audio_output_tokens,
        image_input_tokens=message.image_input_tokens,
    )


def classes_message(classes: PriceClasses) -> common_pb2.PriceClasses:
    return common_pb2.PriceClasses(
        audio_input=classes.audio_input, image_input=classes.image_input, audio_output=classes.audio_output
    )


def estimate_price_from(call: metering_pb2.AuthorizeRequest) -> Price:
    """The rates a call's estimate is priced at: its model's price restricted to the classes the
    request says it can incur; every class when it says nothing (an older caller)."""
    given = call.classes
    classes = PriceClasses(given.audio_input, given.image_input, given.audio_output)
    return estimate_rates(price_from(call.price), classes if call.HasField("classes") else EVERY_CLASS)
