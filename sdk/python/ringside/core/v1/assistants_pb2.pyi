from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AssistantObject(_message.Message):
    __slots__ = ("id", "kind", "customer_id", "parent_id", "status", "body_json", "private_json", "created", "account_id", "livemode", "key_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    PARENT_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    BODY_JSON_FIELD_NUMBER: _ClassVar[int]
    PRIVATE_JSON_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    LIVEMODE_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    kind: str
    customer_id: str
    parent_id: str
    status: str
    body_json: str
    private_json: str
    created: int
    account_id: str
    livemode: bool
    key_id: str
    def __init__(self, id: _Optional[str] = ..., kind: _Optional[str] = ..., customer_id: _Optional[str] = ..., parent_id: _Optional[str] = ..., status: _Optional[str] = ..., body_json: _Optional[str] = ..., private_json: _Optional[str] = ..., created: _Optional[int] = ..., account_id: _Optional[str] = ..., livemode: _Optional[bool] = ..., key_id: _Optional[str] = ...) -> None: ...

class CreateObjectRequest(_message.Message):
    __slots__ = ("object", "customer_ref")
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_REF_FIELD_NUMBER: _ClassVar[int]
    object: AssistantObject
    customer_ref: str
    def __init__(self, object: _Optional[_Union[AssistantObject, _Mapping]] = ..., customer_ref: _Optional[str] = ...) -> None: ...

class ObjectResponse(_message.Message):
    __slots__ = ("object",)
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    object: AssistantObject
    def __init__(self, object: _Optional[_Union[AssistantObject, _Mapping]] = ...) -> None: ...

class GetObjectRequest(_message.Message):
    __slots__ = ("id", "kind", "customer_ref", "parent_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_REF_FIELD_NUMBER: _ClassVar[int]
    PARENT_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    kind: str
    customer_ref: str
    parent_id: str
    def __init__(self, id: _Optional[str] = ..., kind: _Optional[str] = ..., customer_ref: _Optional[str] = ..., parent_id: _Optional[str] = ...) -> None: ...

class UpdateObjectRequest(_message.Message):
    __slots__ = ("target", "body_json", "private_json", "status", "only_from_status")
    TARGET_FIELD_NUMBER: _ClassVar[int]
    BODY_JSON_FIELD_NUMBER: _ClassVar[int]
    PRIVATE_JSON_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ONLY_FROM_STATUS_FIELD_NUMBER: _ClassVar[int]
    target: GetObjectRequest
    body_json: str
    private_json: str
    status: str
    only_from_status: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, target: _Optional[_Union[GetObjectRequest, _Mapping]] = ..., body_json: _Optional[str] = ..., private_json: _Optional[str] = ..., status: _Optional[str] = ..., only_from_status: _Optional[_Iterable[str]] = ...) -> None: ...

class ListObjectsRequest(_message.Message):
    __slots__ = ("kind", "parent_id", "customer_ref", "limit", "order", "after", "before")
    KIND_FIELD_NUMBER: _ClassVar[int]
    PARENT_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_REF_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    AFTER_FIELD_NUMBER: _ClassVar[int]
    BEFORE_FIELD_NUMBER: _ClassVar[int]
    kind: str
    parent_id: str
    customer_ref: str
    limit: int
    order: str
    after: str
    before: str
    def __init__(self, kind: _Optional[str] = ..., parent_id: _Optional[str] = ..., customer_ref: _Optional[str] = ..., limit: _Optional[int] = ..., order: _Optional[str] = ..., after: _Optional[str] = ..., before: _Optional[str] = ...) -> None: ...

class ListObjectsResponse(_message.Message):
    __slots__ = ("objects", "has_more")
    OBJECTS_FIELD_NUMBER: _ClassVar[int]
    HAS_MORE_FIELD_NUMBER: _ClassVar[int]
    objects: _containers.RepeatedCompositeFieldContainer[AssistantObject]
    has_more: bool
    def __init__(self, objects: _Optional[_Iterable[_Union[AssistantObject, _Mapping]]] = ..., has_more: _Optional[bool] = ...) -> None: ...

class DeleteObjectResponse(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class PendingRunsRequest(_message.Message):
    __slots__ = ("limit",)
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    limit: int
    def __init__(self, limit: _Optional[int] = ...) -> None: ...

class PendingRunsResponse(_message.Message):
    __slots__ = ("runs",)
    RUNS_FIELD_NUMBER: _ClassVar[int]
    runs: _containers.RepeatedCompositeFieldContainer[AssistantObject]
    def __init__(self, runs: _Optional[_Iterable[_Union[AssistantObject, _Mapping]]] = ...) -> None: ...
