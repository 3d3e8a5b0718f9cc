from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class Price(_message.Message):
    __slots__ = ("input_nano_usd_per_mtok", "cached_input_nano_usd_per_mtok", "cache_write_nano_usd_per_mtok", "output_nano_usd_per_mtok", "reasoning_nano_usd_per_mtok", "audio_input_nano_usd_per_mtok", "audio_output_nano_usd_per_mtok", "image_input_nano_usd_per_mtok")
    INPUT_NANO_USD_PER_MTOK_FIELD_NUMBER: _ClassVar[int]
    CACHED_INPUT_NANO_USD_PER_MTOK_FIELD_NUMBER: _ClassVar[int]
    CACHE_WRITE_NANO_USD_PER_MTOK_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_NANO_USD_PER_MTOK_FIELD_NUMBER: _ClassVar[int]
    REASONING_NANO_USD_PER_MTOK_FIELD_NUMBER: _ClassVar[int]
    AUDIO_INPUT_NANO_USD_PER_MTOK_FIELD_NUMBER: _ClassVar[int]
    AUDIO_OUTPUT_NANO_USD_PER_MTOK_FIELD_NUMBER: _ClassVar[int]
    IMAGE_INPUT_NANO_USD_PER_MTOK_FIELD_NUMBER: _ClassVar[int]
    input_nano_usd_per_mtok: int
    cached_input_nano_usd_per_mtok: int
    cache_write_nano_usd_per_mtok: int
    output_nano_usd_per_mtok: int
    reasoning_nano_usd_per_mtok: int
    audio_input_nano_usd_per_mtok: int
    audio_output_nano_usd_per_mtok: int
    image_input_nano_usd_per_mtok: int
    def __init__(self, input_nano_usd_per_mtok: _Optional[int] = ..., cached_input_nano_usd_per_mtok: _Optional[int] = ..., cache_write_nano_usd_per_mtok: _Optional[int] = ..., output_nano_usd_per_mtok: _Optional[int] = ..., reasoning_nano_usd_per_mtok: _Optional[int] = ..., audio_input_nano_usd_per_mtok: _Optional[int] = ..., audio_output_nano_usd_per_mtok: _Optional[int] = ..., image_input_nano_usd_per_mtok: _Optional[int] = ...) -> None: ...

class ModelList(_message.Message):
    __slots__ = ("entries",)
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, entries: _Optional[_Iterable[str]] = ...) -> None: ...

class PriceClasses(_message.Message):
    __slots__ = ("audio_input", "image_input", "audio_output")
    AUDIO_INPUT_FIELD_NUMBER: _ClassVar[int]
    IMAGE_INPUT_FIELD_NUMBER: _ClassVar[int]
    AUDIO_OUTPUT_FIELD_NUMBER: _ClassVar[int]
    audio_input: bool
    image_input: bool
    audio_output: bool
    def __init__(self, audio_input: _Optional[bool] = ..., image_input: _Optional[bool] = ..., audio_output: _Optional[bool] = ...) -> None: ...

class TokenCounts(_message.Message):
    __slots__ = ("input_tokens", "cached_input_tokens", "cache_write_tokens", "output_tokens", "reasoning_tokens", "audio_input_tokens", "audio_output_tokens", "image_input_tokens")
    INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CACHED_INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CACHE_WRITE_TOKENS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    REASONING_TOKENS_FIELD_NUMBER: _ClassVar[int]
    AUDIO_INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    AUDIO_OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    IMAGE_INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    input_tokens: int
    cached_input_tokens: int
    cache_write_tokens: int
    output_tokens: int
    reasoning_tokens: int
    audio_input_tokens: int
    audio_output_tokens: int
    image_input_tokens: int
    def __init__(self, input_tokens: _Optional[int] = ..., cached_input_tokens: _Optional[int] = ..., cache_write_tokens: _Optional[int] = ..., output_tokens: _Optional[int] = ..., reasoning_tokens: _Optional[int] = ..., audio_input_tokens: _Optional[int] = ..., audio_output_tokens: _Optional[int] = ..., image_input_tokens: _Optional[int] = ...) -> None: ...

class PageRequest(_message.Message):
    __slots__ = ("limit", "starting_after", "ending_before")
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    STARTING_AFTER_FIELD_NUMBER: _ClassVar[int]
    ENDING_BEFORE_FIELD_NUMBER: _ClassVar[int]
    limit: int
    starting_after: str
    ending_before: str
    def __init__(self, limit: _Optional[int] = ..., starting_after: _Optional[str] = ..., ending_before: _Optional[str] = ...) -> None: ...
