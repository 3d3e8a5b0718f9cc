from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StoredResponse(_message.Message):
    __slots__ = ("id", "customer_id", "response_json", "input_json", "previous_response_id", "created")
    ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_JSON_FIELD_NUMBER: _ClassVar[int]
    INPUT_JSON_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_RESPONSE_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    id: str
    customer_id: str
    response_json: str
    input_json: str
    previous_response_id: str
    created: int
    def __init__(self, id: _Optional[str] = ..., customer_id: _Optional[str] = ..., response_json: _Optional[str] = ..., input_json: _Optional[str] = ..., previous_response_id: _Optional[str] = ..., created: _Optional[int] = ...) -> None: ...

class StoreResponseRequest(_message.Message):
    __slots__ = ("response", "customer_ref", "user")
    RESPONSE_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_REF_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    response: StoredResponse
    customer_ref: str
    user: str
    def __init__(self, response: _Optional[_Union[StoredResponse, _Mapping]] = ..., customer_ref: _Optional[str] = ..., user: _Optional[str] = ...) -> None: ...

class StoreResponseResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetResponseRequest(_message.Message):
    __slots__ = ("id", "customer_ref", "with_chain")
    ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_REF_FIELD_NUMBER: _ClassVar[int]
    WITH_CHAIN_FIELD_NUMBER: _ClassVar[int]
    id: str
    customer_ref: str
    with_chain: bool
    def __init__(self, id: _Optional[str] = ..., customer_ref: _Optional[str] = ..., with_chain: _Optional[bool] = ...) -> None: ...

class GetResponseResponse(_message.Message):
    __slots__ = ("response", "chain")
    RESPONSE_FIELD_NUMBER: _ClassVar[int]
    CHAIN_FIELD_NUMBER: _ClassVar[int]
    response: StoredResponse
    chain: _containers.RepeatedCompositeFieldContainer[StoredResponse]
    def __init__(self, response: _Optional[_Union[StoredResponse, _Mapping]] = ..., chain: _Optional[_Iterable[_Union[StoredResponse, _Mapping]]] = ...) -> None: ...

class DeleteResponseRequest(_message.Message):
    __slots__ = ("id", "customer_ref")
    ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_REF_FIELD_NUMBER: _ClassVar[int]
    id: str
    customer_ref: str
    def __init__(self, id: _Optional[str] = ..., customer_ref: _Optional[str] = ...) -> None: ...

class DeleteResponseResponse(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...
