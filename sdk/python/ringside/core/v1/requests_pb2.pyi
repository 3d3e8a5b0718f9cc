from ringside.core.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RequestEntry(_message.Message):
    __slots__ = ("request_id", "api_key", "client_token", "customer_ref", "user", "customer_id", "route", "model", "resolved_model", "status", "error_code", "latency_ms", "created", "created_ms", "key_id")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    API_KEY_FIELD_NUMBER: _ClassVar[int]
    CLIENT_TOKEN_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_REF_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    ROUTE_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    RESOLVED_MODEL_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    CREATED_MS_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    api_key: str
    client_token: str
    customer_ref: str
    user: str
    customer_id: str
    route: str
    model: str
    resolved_model: str
    status: int
    error_code: str
    latency_ms: int
    created: int
    created_ms: int
    key_id: str
    def __init__(self, request_id: _Optional[str] = ..., api_key: _Optional[str] = ..., client_token: _Optional[str] = ..., customer_ref: _Optional[str] = ..., user: _Optional[str] = ..., customer_id: _Optional[str] = ..., route: _Optional[str] = ..., model: _Optional[str] = ..., resolved_model: _Optional[str] = ..., status: _Optional[int] = ..., error_code: _Optional[str] = ..., latency_ms: _Optional[int] = ..., created: _Optional[int] = ..., created_ms: _Optional[int] = ..., key_id: _Optional[str] = ...) -> None: ...

class RecordRequestsRequest(_message.Message):
    __slots__ = ("entries",)
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[RequestEntry]
    def __init__(self, entries: _Optional[_Iterable[_Union[RequestEntry, _Mapping]]] = ...) -> None: ...

class RecordRequestsResponse(_message.Message):
    __slots__ = ("recorded",)
    RECORDED_FIELD_NUMBER: _ClassVar[int]
    recorded: int
    def __init__(self, recorded: _Optional[int] = ...) -> None: ...

class RequestRow(_message.Message):
    __slots__ = ("request_id", "customer_id", "route", "model", "resolved_model", "status", "error_code", "usage", "cost_nano_usd", "billable_nano_usd", "latency_ms", "settled_by", "created")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    ROUTE_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    RESOLVED_MODEL_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    COST_NANO_USD_FIELD_NUMBER: _ClassVar[int]
    BILLABLE_NANO_USD_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    SETTLED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    customer_id: str
    route: str
    model: str
    resolved_model: str
    status: int
    error_code: str
    usage: _common_pb2.TokenCounts
    cost_nano_usd: int
    billable_nano_usd: int
    latency_ms: int
    settled_by: str
    created: int
    def __init__(self, request_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., route: _Optional[str] = ..., model: _Optional[str] = ..., resolved_model: _Optional[str] = ..., status: _Optional[int] = ..., error_code: _Optional[str] = ..., usage: _Optional[_Union[_common_pb2.TokenCounts, _Mapping]] = ..., cost_nano_usd: _Optional[int] = ..., billable_nano_usd: _Optional[int] = ..., latency_ms: _Optional[int] = ..., settled_by: _Optional[str] = ..., created: _Optional[int] = ...) -> None: ...

class ListRequestsRequest(_message.Message):
    __slots__ = ("page", "customer_ref", "model", "status", "since", "until")
    PAGE_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_REF_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    page: _common_pb2.PageRequest
    customer_ref: str
    model: str
    status: int
    since: int
    until: int
    def __init__(self, page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ..., customer_ref: _Optional[str] = ..., model: _Optional[str] = ..., status: _Optional[int] = ..., since: _Optional[int] = ..., until: _Optional[int] = ...) -> None: ...

class ListRequestsResponse(_message.Message):
    __slots__ = ("requests", "has_more")
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    HAS_MORE_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[RequestRow]
    has_more: bool
    def __init__(self, requests: _Optional[_Iterable[_Union[RequestRow, _Mapping]]] = ..., has_more: _Optional[bool] = ...) -> None: ...

class GetRequestRequest(_message.Message):
    __slots__ = ("request_id",)
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    def __init__(self, request_id: _Optional[str] = ...) -> None: ...

class GetRequestResponse(_message.Message):
    __slots__ = ("request",)
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    request: RequestRow
    def __init__(self, request: _Optional[_Union[RequestRow, _Mapping]] = ...) -> None: ...
