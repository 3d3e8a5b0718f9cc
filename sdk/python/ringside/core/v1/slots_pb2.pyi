from ringside.core.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Slot(_message.Message):
    __slots__ = ("id", "livemode", "name", "model", "created")
    ID_FIELD_NUMBER: _ClassVar[int]
    LIVEMODE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    id: str
    livemode: bool
    name: str
    model: str
    created: int
    def __init__(self, id: _Optional[str] = ..., livemode: _Optional[bool] = ..., name: _Optional[str] = ..., model: _Optional[str] = ..., created: _Optional[int] = ...) -> None: ...

class CreateSlotRequest(_message.Message):
    __slots__ = ("name", "model")
    NAME_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    name: str
    model: str
    def __init__(self, name: _Optional[str] = ..., model: _Optional[str] = ...) -> None: ...

class CreateSlotResponse(_message.Message):
    __slots__ = ("slot",)
    SLOT_FIELD_NUMBER: _ClassVar[int]
    slot: Slot
    def __init__(self, slot: _Optional[_Union[Slot, _Mapping]] = ...) -> None: ...

class ListSlotsRequest(_message.Message):
    __slots__ = ("page",)
    PAGE_FIELD_NUMBER: _ClassVar[int]
    page: _common_pb2.PageRequest
    def __init__(self, page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class ListSlotsResponse(_message.Message):
    __slots__ = ("slots", "has_more")
    SLOTS_FIELD_NUMBER: _ClassVar[int]
    HAS_MORE_FIELD_NUMBER: _ClassVar[int]
    slots: _containers.RepeatedCompositeFieldContainer[Slot]
    has_more: bool
    def __init__(self, slots: _Optional[_Iterable[_Union[Slot, _Mapping]]] = ..., has_more: _Optional[bool] = ...) -> None: ...

class DeleteSlotRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class DeleteSlotResponse(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ResolveSlotRequest(_message.Message):
    __slots__ = ("api_key", "name", "key_id")
    API_KEY_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    api_key: str
    name: str
    key_id: str
    def __init__(self, api_key: _Optional[str] = ..., name: _Optional[str] = ..., key_id: _Optional[str] = ...) -> None: ...

class ResolveSlotResponse(_message.Message):
    __slots__ = ("model", "bare_model_provider")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    BARE_MODEL_PROVIDER_FIELD_NUMBER: _ClassVar[int]
    model: str
    bare_model_provider: str
    def __init__(self, model: _Optional[str] = ..., bare_model_provider: _Optional[str] = ...) -> None: ...
