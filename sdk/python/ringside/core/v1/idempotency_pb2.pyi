from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class IdempotencyDecision(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    IDEMPOTENCY_DECISION_UNSPECIFIED: _ClassVar[IdempotencyDecision]
    IDEMPOTENCY_DECISION_PROCEED: _ClassVar[IdempotencyDecision]
    IDEMPOTENCY_DECISION_REPLAY: _ClassVar[IdempotencyDecision]
IDEMPOTENCY_DECISION_UNSPECIFIED: IdempotencyDecision
IDEMPOTENCY_DECISION_PROCEED: IdempotencyDecision
IDEMPOTENCY_DECISION_REPLAY: IdempotencyDecision

class BeginIdempotentRequest(_message.Message):
    __slots__ = ("api_key", "route", "key", "request_hash")
    API_KEY_FIELD_NUMBER: _ClassVar[int]
    ROUTE_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    REQUEST_HASH_FIELD_NUMBER: _ClassVar[int]
    api_key: str
    route: str
    key: str
    request_hash: str
    def __init__(self, api_key: _Optional[str] = ..., route: _Optional[str] = ..., key: _Optional[str] = ..., request_hash: _Optional[str] = ...) -> None: ...

class BeginIdempotentResponse(_message.Message):
    __slots__ = ("decision", "status", "body")
    DECISION_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    decision: IdempotencyDecision
    status: int
    body: bytes
    def __init__(self, decision: _Optional[_Union[IdempotencyDecision, str]] = ..., status: _Optional[int] = ..., body: _Optional[bytes] = ...) -> None: ...

class FinishIdempotentRequest(_message.Message):
    __slots__ = ("api_key", "route", "key", "status", "body", "request_hash")
    API_KEY_FIELD_NUMBER: _ClassVar[int]
    ROUTE_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    REQUEST_HASH_FIELD_NUMBER: _ClassVar[int]
    api_key: str
    route: str
    key: str
    status: int
    body: bytes
    request_hash: str
    def __init__(self, api_key: _Optional[str] = ..., route: _Optional[str] = ..., key: _Optional[str] = ..., status: _Optional[int] = ..., body: _Optional[bytes] = ..., request_hash: _Optional[str] = ...) -> None: ...

class FinishIdempotentResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class AbortIdempotentRequest(_message.Message):
    __slots__ = ("api_key", "route", "key")
    API_KEY_FIELD_NUMBER: _ClassVar[int]
    ROUTE_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    api_key: str
    route: str
    key: str
    def __init__(self, api_key: _Optional[str] = ..., route: _Optional[str] = ..., key: _Optional[str] = ...) -> None: ...

class AbortIdempotentResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
