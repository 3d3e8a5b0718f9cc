from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class VectorStore(_message.Message):
    __slots__ = ("id", "livemode", "customer_id", "name", "embedding_model", "embedding_model_requested", "chunking_json", "metadata_json", "expires_after_days", "shared", "generation", "created", "last_active_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    LIVEMODE_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    EMBEDDING_MODEL_FIELD_NUMBER: _ClassVar[int]
    EMBEDDING_MODEL_REQUESTED_FIELD_NUMBER: _ClassVar[int]
    CHUNKING_JSON_FIELD_NUMBER: _ClassVar[int]
    METADATA_JSON_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AFTER_DAYS_FIELD_NUMBER: _ClassVar[int]
    SHARED_FIELD_NUMBER: _ClassVar[int]
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    LAST_ACTIVE_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    livemode: bool
    customer_id: str
    name: str
    embedding_model: str
    embedding_model_requested: str
    chunking_json: str
    metadata_json: str
    expires_after_days: int
    shared: bool
    generation: int
    created: int
    last_active_at: int
    def __init__(self, id: _Optional[str] = ..., livemode: _Optional[bool] = ..., customer_id: _Optional[str] = ..., name: _Optional[str] = ..., embedding_model: _Optional[str] = ..., embedding_model_requested: _Optional[str] = ..., chunking_json: _Optional[str] = ..., metadata_json: _Optional[str] = ..., expires_after_days: _Optional[int] = ..., shared: _Optional[bool] = ..., generation: _Optional[int] = ..., created: _Optional[int] = ..., last_active_at: _Optional[int] = ...) -> None: ...

class CreateVectorStoreRequest(_message.Message):
    __slots__ = ("customer_ref", "name", "embedding_model", "embedding_model_requested", "chunking_json", "metadata_json", "expires_after_days", "shared")
    CUSTOMER_REF_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    EMBEDDING_MODEL_FIELD_NUMBER: _ClassVar[int]
    EMBEDDING_MODEL_REQUESTED_FIELD_NUMBER: _ClassVar[int]
    CHUNKING_JSON_FIELD_NUMBER: _ClassVar[int]
    METADATA_JSON_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AFTER_DAYS_FIELD_NUMBER: _ClassVar[int]
    SHARED_FIELD_NUMBER: _ClassVar[int]
    customer_ref: str
    name: str
    embedding_model: str
    embedding_model_requested: str
    chunking_json: str
    metadata_json: str
    expires_after_days: int
    shared: bool
    def __init__(self, customer_ref: _Optional[str] = ..., name: _Optional[str] = ..., embedding_model: _Optional[str] = ..., embedding_model_requested: _Optional[str] = ..., chunking_json: _Optional[str] = ..., metadata_json: _Optional[str] = ..., expires_after_days: _Optional[int] = ..., shared: _Optional[bool] = ...) -> None: ...

class CreateVectorStoreResponse(_message.Message):
    __slots__ = ("store",)
    STORE_FIELD_NUMBER: _ClassVar[int]
    store: VectorStore
    def __init__(self, store: _Optional[_Union[VectorStore, _Mapping]] = ...) -> None: ...

class GetVectorStoreRequest(_message.Message):
    __slots__ = ("id", "customer_ref")
    ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_REF_FIELD_NUMBER: _ClassVar[int]
    id: str
    customer_ref: str
    def __init__(self, id: _Optional[str] = ..., customer_ref: _Optional[str] = ...) -> None: ...

class GetVectorStoreResponse(_message.Message):
    __slots__ = ("store",)
    STORE_FIELD_NUMBER: _ClassVar[int]
    store: VectorStore
    def __init__(self, store: _Optional[_Union[VectorStore, _Mapping]] = ...) -> None: ...

class ListVectorStoresRequest(_message.Message):
    __slots__ = ("customer_ref", "limit", "order", "after", "before", "customer_id")
    CUSTOMER_REF_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    AFTER_FIELD_NUMBER: _ClassVar[int]
    BEFORE_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    customer_ref: str
    limit: int
    order: str
    after: str
    before: str
    customer_id: str
    def __init__(self, customer_ref: _Optional[str] = ..., limit: _Optional[int] = ..., order: _Optional[str] = ..., after: _Optional[str] = ..., before: _Optional[str] = ..., customer_id: _Optional[str] = ...) -> None: ...

class ListVectorStoresResponse(_message.Message):
    __slots__ = ("stores", "has_more")
    STORES_FIELD_NUMBER: _ClassVar[int]
    HAS_MORE_FIELD_NUMBER: _ClassVar[int]
    stores: _containers.RepeatedCompositeFieldContainer[VectorStore]
    has_more: bool
    def __init__(self, stores: _Optional[_Iterable[_Union[VectorStore, _Mapping]]] = ..., has_more: _Optional[bool] = ...) -> None: ...

class UpdateVectorStoreRequest(_message.Message):
    __slots__ = ("id", "customer_ref", "name", "metadata_json", "expires_after_days")
    ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_REF_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    METADATA_JSON_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AFTER_DAYS_FIELD_NUMBER: _ClassVar[int]
    id: str
    customer_ref: str
    name: str
    metadata_json: str
    expires_after_days: int
    def __init__(self, id: _Optional[str] = ..., customer_ref: _Optional[str] = ..., name: _Optional[str] = ..., metadata_json: _Optional[str] = ..., expires_after_days: _Optional[int] = ...) -> None: ...

class UpdateVectorStoreResponse(_message.Message):
    __slots__ = ("store",)
    STORE_FIELD_NUMBER: _ClassVar[int]
    store: VectorStore
    def __init__(self, store: _Optional[_Union[VectorStore, _Mapping]] = ...) -> None: ...

class DeleteVectorStoreRequest(_message.Message):
    __slots__ = ("id", "customer_ref")
    ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_REF_FIELD_NUMBER: _ClassVar[int]
    id: str
    customer_ref: str
    def __init__(self, id: _Optional[str] = ..., customer_ref: _Optional[str] = ...) -> None: ...

class DeleteVectorStoreResponse(_message.Message):
    __slots__ = ("store",)
    STORE_FIELD_NUMBER: _ClassVar[int]
    store: VectorStore
    def __init__(self, store: _Optional[_Union[VectorStore, _Mapping]] = ...) -> None: ...
