from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class File(_message.Message):
    __slots__ = ("id", "livemode", "customer_id", "filename", "purpose", "bytes", "sha256", "created")
    ID_FIELD_NUMBER: _ClassVar[int]
    LIVEMODE_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    id: str
    livemode: bool
    customer_id: str
    filename: str
    purpose: str
    bytes: int
    sha256: str
    created: int
    def __init__(self, id: _Optional[str] = ..., livemode: _Optional[bool] = ..., customer_id: _Optional[str] = ..., filename: _Optional[str] = ..., purpose: _Optional[str] = ..., bytes: _Optional[int] = ..., sha256: _Optional[str] = ..., created: _Optional[int] = ...) -> None: ...

class CreateFileRequest(_message.Message):
    __slots__ = ("id", "customer_ref", "filename", "purpose", "bytes", "sha256")
    ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_REF_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    id: str
    customer_ref: str
    filename: str
    purpose: str
    bytes: int
    sha256: str
    def __init__(self, id: _Optional[str] = ..., customer_ref: _Optional[str] = ..., filename: _Optional[str] = ..., purpose: _Optional[str] = ..., bytes: _Optional[int] = ..., sha256: _Optional[str] = ...) -> None: ...

class CreateFileResponse(_message.Message):
    __slots__ = ("file",)
    FILE_FIELD_NUMBER: _ClassVar[int]
    file: File
    def __init__(self, file: _Optional[_Union[File, _Mapping]] = ...) -> None: ...

class GetFileRequest(_message.Message):
    __slots__ = ("id", "customer_ref")
    ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_REF_FIELD_NUMBER: _ClassVar[int]
    id: str
    customer_ref: str
    def __init__(self, id: _Optional[str] = ..., customer_ref: _Optional[str] = ...) -> None: ...

class GetFileResponse(_message.Message):
    __slots__ = ("file",)
    FILE_FIELD_NUMBER: _ClassVar[int]
    file: File
    def __init__(self, file: _Optional[_Union[File, _Mapping]] = ...) -> None: ...

class ListFilesRequest(_message.Message):
    __slots__ = ("customer_ref", "purpose", "limit", "order", "after", "customer_id")
    CUSTOMER_REF_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    AFTER_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    customer_ref: str
    purpose: str
    limit: int
    order: str
    after: str
    customer_id: str
    def __init__(self, customer_ref: _Optional[str] = ..., purpose: _Optional[str] = ..., limit: _Optional[int] = ..., order: _Optional[str] = ..., after: _Optional[str] = ..., customer_id: _Optional[str] = ...) -> None: ...

class ListFilesResponse(_message.Message):
    __slots__ = ("files", "has_more")
    FILES_FIELD_NUMBER: _ClassVar[int]
    HAS_MORE_FIELD_NUMBER: _ClassVar[int]
    files: _containers.RepeatedCompositeFieldContainer[File]
    has_more: bool
    def __init__(self, files: _Optional[_Iterable[_Union[File, _Mapping]]] = ..., has_more: _Optional[bool] = ...) -> None: ...

class DeleteFileRequest(_message.Message):
    __slots__ = ("id", "customer_ref")
    ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_REF_FIELD_NUMBER: _ClassVar[int]
    id: str
    customer_ref: str
    def __init__(self, id: _Optional[str] = ..., customer_ref: _Optional[str] = ...) -> None: ...

class DeleteFileResponse(_message.Message):
    __slots__ = ("id", "detached_from")
    ID_FIELD_NUMBER: _ClassVar[int]
    DETACHED_FROM_FIELD_NUMBER: _ClassVar[int]
    id: str
    detached_from: _containers.RepeatedCompositeFieldContainer[DetachedFrom]
    def __init__(self, id: _Optional[str] = ..., detached_from: _Optional[_Iterable[_Union[DetachedFrom, _Mapping]]] = ...) -> None: ...

class DetachedFrom(_message.Message):
    __slots__ = ("store_id", "generation")
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    store_id: str
    generation: int
    def __init__(self, store_id: _Optional[str] = ..., generation: _Optional[int] = ...) -> None: ...

class LiveRagObjectsRequest(_message.Message):
    __slots__ = ("file_ids", "store_ids", "sha256s", "attachments")
    FILE_IDS_FIELD_NUMBER: _ClassVar[int]
    STORE_IDS_FIELD_NUMBER: _ClassVar[int]
    SHA256S_FIELD_NUMBER: _ClassVar[int]
    ATTACHMENTS_FIELD_NUMBER: _ClassVar[int]
    file_ids: _containers.RepeatedScalarFieldContainer[str]
    store_ids: _containers.RepeatedScalarFieldContainer[str]
    sha256s: _containers.RepeatedScalarFieldContainer[str]
    attachments: _containers.RepeatedCompositeFieldContainer[StoreFilePair]
    def __init__(self, file_ids: _Optional[_Iterable[str]] = ..., store_ids: _Optional[_Iterable[str]] = ..., sha256s: _Optional[_Iterable[str]] = ..., attachments: _Optional[_Iterable[_Union[StoreFilePair, _Mapping]]] = ...) -> None: ...

class StoreFilePair(_message.Message):
    __slots__ = ("store_id", "file_id")
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    FILE_ID_FIELD_NUMBER: _ClassVar[int]
    store_id: str
    file_id: str
    def __init__(self, store_id: _Optional[str] = ..., file_id: _Optional[str] = ...) -> None: ...

class LiveRagObjectsResponse(_message.Message):
    __slots__ = ("file_ids", "store_ids", "sha256s", "attachments", "served_partitions")
    FILE_IDS_FIELD_NUMBER: _ClassVar[int]
    STORE_IDS_FIELD_NUMBER: _ClassVar[int]
    SHA256S_FIELD_NUMBER: _ClassVar[int]
    ATTACHMENTS_FIELD_NUMBER: _ClassVar[int]
    SERVED_PARTITIONS_FIELD_NUMBER: _ClassVar[int]
    file_ids: _containers.RepeatedScalarFieldContainer[str]
    store_ids: _containers.RepeatedScalarFieldContainer[str]
    sha256s: _containers.RepeatedScalarFieldContainer[str]
    attachments: _containers.RepeatedCompositeFieldContainer[StoreFilePair]
    served_partitions: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, file_ids: _Optional[_Iterable[str]] = ..., store_ids: _Optional[_Iterable[str]] = ..., sha256s: _Optional[_Iterable[str]] = ..., attachments: _Optional[_Iterable[_Union[StoreFilePair, _Mapping]]] = ..., served_partitions: _Optional[_Iterable[int]] = ...) -> None: ...
