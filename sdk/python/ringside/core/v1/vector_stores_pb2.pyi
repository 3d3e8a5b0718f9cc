from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class VectorStore(_message.Message):
    __slots__ = ("id", "livemode", "customer_id", "name", "embedding_model", "embedding_model_requested", "chunking_json", "metadata_json", "expires_after_days", "shared", "generation", "created", "last_active_at", "files_in_progress", "files_completed", "files_failed", "files_cancelled", "usage_bytes")
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
    FILES_IN_PROGRESS_FIELD_NUMBER: _ClassVar[int]
    FILES_COMPLETED_FIELD_NUMBER: _ClassVar[int]
    FILES_FAILED_FIELD_NUMBER: _ClassVar[int]
    FILES_CANCELLED_FIELD_NUMBER: _ClassVar[int]
    USAGE_BYTES_FIELD_NUMBER: _ClassVar[int]
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
    files_in_progress: int
    files_completed: int
    files_failed: int
    files_cancelled: int
    usage_bytes: int
    def __init__(self, id: _Optional[str] = ..., livemode: _Optional[bool] = ..., customer_id: _Optional[str] = ..., name: _Optional[str] = ..., embedding_model: _Optional[str] = ..., embedding_model_requested: _Optional[str] = ..., chunking_json: _Optional[str] = ..., metadata_json: _Optional[str] = ..., expires_after_days: _Optional[int] = ..., shared: _Optional[bool] = ..., generation: _Optional[int] = ..., created: _Optional[int] = ..., last_active_at: _Optional[int] = ..., files_in_progress: _Optional[int] = ..., files_completed: _Optional[int] = ..., files_failed: _Optional[int] = ..., files_cancelled: _Optional[int] = ..., usage_bytes: _Optional[int] = ...) -> None: ...

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

class StoreFile(_message.Message):
    __slots__ = ("store_id", "file_id", "customer_id", "status", "attributes_json", "chunking_json", "chunk_count", "usage_bytes", "last_error_code", "last_error_message", "created", "generation", "attach_id", "batch_id", "key_id", "migrating_generation", "progress_at", "attributes_version")
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    FILE_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_JSON_FIELD_NUMBER: _ClassVar[int]
    CHUNKING_JSON_FIELD_NUMBER: _ClassVar[int]
    CHUNK_COUNT_FIELD_NUMBER: _ClassVar[int]
    USAGE_BYTES_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    ATTACH_ID_FIELD_NUMBER: _ClassVar[int]
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    MIGRATING_GENERATION_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_AT_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_VERSION_FIELD_NUMBER: _ClassVar[int]
    store_id: str
    file_id: str
    customer_id: str
    status: str
    attributes_json: str
    chunking_json: str
    chunk_count: int
    usage_bytes: int
    last_error_code: str
    last_error_message: str
    created: int
    generation: int
    attach_id: str
    batch_id: str
    key_id: str
    migrating_generation: int
    progress_at: int
    attributes_version: int
    def __init__(self, store_id: _Optional[str] = ..., file_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., status: _Optional[str] = ..., attributes_json: _Optional[str] = ..., chunking_json: _Optional[str] = ..., chunk_count: _Optional[int] = ..., usage_bytes: _Optional[int] = ..., last_error_code: _Optional[str] = ..., last_error_message: _Optional[str] = ..., created: _Optional[int] = ..., generation: _Optional[int] = ..., attach_id: _Optional[str] = ..., batch_id: _Optional[str] = ..., key_id: _Optional[str] = ..., migrating_generation: _Optional[int] = ..., progress_at: _Optional[int] = ..., attributes_version: _Optional[int] = ...) -> None: ...

class AttachFileRequest(_message.Message):
    __slots__ = ("store_id", "customer_ref", "file_id", "attributes_json", "chunking_json")
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_REF_FIELD_NUMBER: _ClassVar[int]
    FILE_ID_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_JSON_FIELD_NUMBER: _ClassVar[int]
    CHUNKING_JSON_FIELD_NUMBER: _ClassVar[int]
    store_id: str
    customer_ref: str
    file_id: str
    attributes_json: str
    chunking_json: str
    def __init__(self, store_id: _Optional[str] = ..., customer_ref: _Optional[str] = ..., file_id: _Optional[str] = ..., attributes_json: _Optional[str] = ..., chunking_json: _Optional[str] = ...) -> None: ...

class StoreFileRequest(_message.Message):
    __slots__ = ("store_id", "customer_ref", "file_id", "attributes_json")
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_REF_FIELD_NUMBER: _ClassVar[int]
    FILE_ID_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_JSON_FIELD_NUMBER: _ClassVar[int]
    store_id: str
    customer_ref: str
    file_id: str
    attributes_json: str
    def __init__(self, store_id: _Optional[str] = ..., customer_ref: _Optional[str] = ..., file_id: _Optional[str] = ..., attributes_json: _Optional[str] = ...) -> None: ...

class StoreFileResponse(_message.Message):
    __slots__ = ("file",)
    FILE_FIELD_NUMBER: _ClassVar[int]
    file: StoreFile
    def __init__(self, file: _Optional[_Union[StoreFile, _Mapping]] = ...) -> None: ...

class ListStoreFilesRequest(_message.Message):
    __slots__ = ("store_id", "customer_ref", "limit", "order", "after", "before", "status", "batch_id")
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_REF_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    AFTER_FIELD_NUMBER: _ClassVar[int]
    BEFORE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    store_id: str
    customer_ref: str
    limit: int
    order: str
    after: str
    before: str
    status: str
    batch_id: str
    def __init__(self, store_id: _Optional[str] = ..., customer_ref: _Optional[str] = ..., limit: _Optional[int] = ..., order: _Optional[str] = ..., after: _Optional[str] = ..., before: _Optional[str] = ..., status: _Optional[str] = ..., batch_id: _Optional[str] = ...) -> None: ...

class AttachFileBatchRequest(_message.Message):
    __slots__ = ("store_id", "customer_ref", "file_ids", "attributes_json", "chunking_json", "files")
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_REF_FIELD_NUMBER: _ClassVar[int]
    FILE_IDS_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_JSON_FIELD_NUMBER: _ClassVar[int]
    CHUNKING_JSON_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    store_id: str
    customer_ref: str
    file_ids: _containers.RepeatedScalarFieldContainer[str]
    attributes_json: str
    chunking_json: str
    files: _containers.RepeatedCompositeFieldContainer[BatchFile]
    def __init__(self, store_id: _Optional[str] = ..., customer_ref: _Optional[str] = ..., file_ids: _Optional[_Iterable[str]] = ..., attributes_json: _Optional[str] = ..., chunking_json: _Optional[str] = ..., files: _Optional[_Iterable[_Union[BatchFile, _Mapping]]] = ...) -> None: ...

class BatchFile(_message.Message):
    __slots__ = ("file_id", "attributes_json", "chunking_json")
    FILE_ID_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_JSON_FIELD_NUMBER: _ClassVar[int]
    CHUNKING_JSON_FIELD_NUMBER: _ClassVar[int]
    file_id: str
    attributes_json: str
    chunking_json: str
    def __init__(self, file_id: _Optional[str] = ..., attributes_json: _Optional[str] = ..., chunking_json: _Optional[str] = ...) -> None: ...

class FileBatchRequest(_message.Message):
    __slots__ = ("store_id", "customer_ref", "batch_id")
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_REF_FIELD_NUMBER: _ClassVar[int]
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    store_id: str
    customer_ref: str
    batch_id: str
    def __init__(self, store_id: _Optional[str] = ..., customer_ref: _Optional[str] = ..., batch_id: _Optional[str] = ...) -> None: ...

class FileBatchResponse(_message.Message):
    __slots__ = ("batch_id", "created", "files", "cancelled", "generation")
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    CANCELLED_FIELD_NUMBER: _ClassVar[int]
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    batch_id: str
    created: int
    files: _containers.RepeatedCompositeFieldContainer[StoreFile]
    cancelled: bool
    generation: int
    def __init__(self, batch_id: _Optional[str] = ..., created: _Optional[int] = ..., files: _Optional[_Iterable[_Union[StoreFile, _Mapping]]] = ..., cancelled: _Optional[bool] = ..., generation: _Optional[int] = ...) -> None: ...

class ListStoreFilesResponse(_message.Message):
    __slots__ = ("files", "has_more")
    FILES_FIELD_NUMBER: _ClassVar[int]
    HAS_MORE_FIELD_NUMBER: _ClassVar[int]
    files: _containers.RepeatedCompositeFieldContainer[StoreFile]
    has_more: bool
    def __init__(self, files: _Optional[_Iterable[_Union[StoreFile, _Mapping]]] = ..., has_more: _Optional[bool] = ...) -> None: ...

class PendingIngestsRequest(_message.Message):
    __slots__ = ("limit",)
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    limit: int
    def __init__(self, limit: _Optional[int] = ...) -> None: ...

class PendingIngest(_message.Message):
    __slots__ = ("store_id", "file_id", "created", "customer_id", "account_id", "attach_id")
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    FILE_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ATTACH_ID_FIELD_NUMBER: _ClassVar[int]
    store_id: str
    file_id: str
    created: int
    customer_id: str
    account_id: str
    attach_id: str
    def __init__(self, store_id: _Optional[str] = ..., file_id: _Optional[str] = ..., created: _Optional[int] = ..., customer_id: _Optional[str] = ..., account_id: _Optional[str] = ..., attach_id: _Optional[str] = ...) -> None: ...

class PendingIngestsResponse(_message.Message):
    __slots__ = ("ingests",)
    INGESTS_FIELD_NUMBER: _ClassVar[int]
    ingests: _containers.RepeatedCompositeFieldContainer[PendingIngest]
    def __init__(self, ingests: _Optional[_Iterable[_Union[PendingIngest, _Mapping]]] = ...) -> None: ...

class IngestJobRequest(_message.Message):
    __slots__ = ("store_id", "file_id")
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    FILE_ID_FIELD_NUMBER: _ClassVar[int]
    store_id: str
    file_id: str
    def __init__(self, store_id: _Optional[str] = ..., file_id: _Optional[str] = ...) -> None: ...

class IngestJobResponse(_message.Message):
    __slots__ = ("store", "file", "filename", "bytes", "sha256", "migration")
    STORE_FIELD_NUMBER: _ClassVar[int]
    FILE_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    MIGRATION_FIELD_NUMBER: _ClassVar[int]
    store: VectorStore
    file: StoreFile
    filename: str
    bytes: int
    sha256: str
    migration: Migration
    def __init__(self, store: _Optional[_Union[VectorStore, _Mapping]] = ..., file: _Optional[_Union[StoreFile, _Mapping]] = ..., filename: _Optional[str] = ..., bytes: _Optional[int] = ..., sha256: _Optional[str] = ..., migration: _Optional[_Union[Migration, _Mapping]] = ...) -> None: ...

class FinishIngestRequest(_message.Message):
    __slots__ = ("store_id", "file_id", "attach_id", "status", "chunk_count", "last_error_code", "last_error_message", "chunking_json", "embedding_tokens")
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    FILE_ID_FIELD_NUMBER: _ClassVar[int]
    ATTACH_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CHUNK_COUNT_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    CHUNKING_JSON_FIELD_NUMBER: _ClassVar[int]
    EMBEDDING_TOKENS_FIELD_NUMBER: _ClassVar[int]
    store_id: str
    file_id: str
    attach_id: str
    status: str
    chunk_count: int
    last_error_code: str
    last_error_message: str
    chunking_json: str
    embedding_tokens: int
    def __init__(self, store_id: _Optional[str] = ..., file_id: _Optional[str] = ..., attach_id: _Optional[str] = ..., status: _Optional[str] = ..., chunk_count: _Optional[int] = ..., last_error_code: _Optional[str] = ..., last_error_message: _Optional[str] = ..., chunking_json: _Optional[str] = ..., embedding_tokens: _Optional[int] = ...) -> None: ...

class RecordQueryRequest(_message.Message):
    __slots__ = ("store_id", "customer_ref", "query", "latency_ms", "result_count", "top_file_ids", "embedding_tokens")
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_REF_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    RESULT_COUNT_FIELD_NUMBER: _ClassVar[int]
    TOP_FILE_IDS_FIELD_NUMBER: _ClassVar[int]
    EMBEDDING_TOKENS_FIELD_NUMBER: _ClassVar[int]
    store_id: str
    customer_ref: str
    query: str
    latency_ms: int
    result_count: int
    top_file_ids: _containers.RepeatedScalarFieldContainer[str]
    embedding_tokens: int
    def __init__(self, store_id: _Optional[str] = ..., customer_ref: _Optional[str] = ..., query: _Optional[str] = ..., latency_ms: _Optional[int] = ..., result_count: _Optional[int] = ..., top_file_ids: _Optional[_Iterable[str]] = ..., embedding_tokens: _Optional[int] = ...) -> None: ...

class RecordQueryResponse(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class StoreQuery(_message.Message):
    __slots__ = ("id", "customer_id", "query", "created", "latency_ms", "result_count", "top_file_ids", "embedding_tokens")
    ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    RESULT_COUNT_FIELD_NUMBER: _ClassVar[int]
    TOP_FILE_IDS_FIELD_NUMBER: _ClassVar[int]
    EMBEDDING_TOKENS_FIELD_NUMBER: _ClassVar[int]
    id: str
    customer_id: str
    query: str
    created: int
    latency_ms: int
    result_count: int
    top_file_ids: _containers.RepeatedScalarFieldContainer[str]
    embedding_tokens: int
    def __init__(self, id: _Optional[str] = ..., customer_id: _Optional[str] = ..., query: _Optional[str] = ..., created: _Optional[int] = ..., latency_ms: _Optional[int] = ..., result_count: _Optional[int] = ..., top_file_ids: _Optional[_Iterable[str]] = ..., embedding_tokens: _Optional[int] = ...) -> None: ...

class ListQueriesRequest(_message.Message):
    __slots__ = ("store_id", "customer_ref", "limit", "after", "before")
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_REF_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    AFTER_FIELD_NUMBER: _ClassVar[int]
    BEFORE_FIELD_NUMBER: _ClassVar[int]
    store_id: str
    customer_ref: str
    limit: int
    after: str
    before: str
    def __init__(self, store_id: _Optional[str] = ..., customer_ref: _Optional[str] = ..., limit: _Optional[int] = ..., after: _Optional[str] = ..., before: _Optional[str] = ...) -> None: ...

class ListQueriesResponse(_message.Message):
    __slots__ = ("queries", "has_more")
    QUERIES_FIELD_NUMBER: _ClassVar[int]
    HAS_MORE_FIELD_NUMBER: _ClassVar[int]
    queries: _containers.RepeatedCompositeFieldContainer[StoreQuery]
    has_more: bool
    def __init__(self, queries: _Optional[_Iterable[_Union[StoreQuery, _Mapping]]] = ..., has_more: _Optional[bool] = ...) -> None: ...

class StoreStatsRequest(_message.Message):
    __slots__ = ("store_id", "customer_ref", "window")
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_REF_FIELD_NUMBER: _ClassVar[int]
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    store_id: str
    customer_ref: str
    window: str
    def __init__(self, store_id: _Optional[str] = ..., customer_ref: _Optional[str] = ..., window: _Optional[str] = ...) -> None: ...

class TopFile(_message.Message):
    __slots__ = ("file_id", "count")
    FILE_ID_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    file_id: str
    count: int
    def __init__(self, file_id: _Optional[str] = ..., count: _Optional[int] = ...) -> None: ...

class StoreStatsResponse(_message.Message):
    __slots__ = ("query_count", "latency_p50_ms", "latency_p95_ms", "zero_result_rate", "top_files", "embedding_tokens", "store", "chunks_completed", "ingest_embedding_tokens")
    QUERY_COUNT_FIELD_NUMBER: _ClassVar[int]
    LATENCY_P50_MS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_P95_MS_FIELD_NUMBER: _ClassVar[int]
    ZERO_RESULT_RATE_FIELD_NUMBER: _ClassVar[int]
    TOP_FILES_FIELD_NUMBER: _ClassVar[int]
    EMBEDDING_TOKENS_FIELD_NUMBER: _ClassVar[int]
    STORE_FIELD_NUMBER: _ClassVar[int]
    CHUNKS_COMPLETED_FIELD_NUMBER: _ClassVar[int]
    INGEST_EMBEDDING_TOKENS_FIELD_NUMBER: _ClassVar[int]
    query_count: int
    latency_p50_ms: float
    latency_p95_ms: float
    zero_result_rate: float
    top_files: _containers.RepeatedCompositeFieldContainer[TopFile]
    embedding_tokens: int
    store: VectorStore
    chunks_completed: int
    ingest_embedding_tokens: int
    def __init__(self, query_count: _Optional[int] = ..., latency_p50_ms: _Optional[float] = ..., latency_p95_ms: _Optional[float] = ..., zero_result_rate: _Optional[float] = ..., top_files: _Optional[_Iterable[_Union[TopFile, _Mapping]]] = ..., embedding_tokens: _Optional[int] = ..., store: _Optional[_Union[VectorStore, _Mapping]] = ..., chunks_completed: _Optional[int] = ..., ingest_embedding_tokens: _Optional[int] = ...) -> None: ...

class Migration(_message.Message):
    __slots__ = ("id", "store_id", "status", "from_model", "to_model", "to_model_requested", "from_generation", "to_generation", "created", "completed_at", "rollback_until", "files_total", "files_done", "chunks_done", "embedding_tokens", "last_error_code", "last_error_message", "retired", "customer_id", "account_id", "livemode", "key_id", "from_model_requested")
    ID_FIELD_NUMBER: _ClassVar[int]
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    FROM_MODEL_FIELD_NUMBER: _ClassVar[int]
    TO_MODEL_FIELD_NUMBER: _ClassVar[int]
    TO_MODEL_REQUESTED_FIELD_NUMBER: _ClassVar[int]
    FROM_GENERATION_FIELD_NUMBER: _ClassVar[int]
    TO_GENERATION_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_AT_FIELD_NUMBER: _ClassVar[int]
    ROLLBACK_UNTIL_FIELD_NUMBER: _ClassVar[int]
    FILES_TOTAL_FIELD_NUMBER: _ClassVar[int]
    FILES_DONE_FIELD_NUMBER: _ClassVar[int]
    CHUNKS_DONE_FIELD_NUMBER: _ClassVar[int]
    EMBEDDING_TOKENS_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    RETIRED_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    LIVEMODE_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_MODEL_REQUESTED_FIELD_NUMBER: _ClassVar[int]
    id: str
    store_id: str
    status: str
    from_model: str
    to_model: str
    to_model_requested: str
    from_generation: int
    to_generation: int
    created: int
    completed_at: int
    rollback_until: int
    files_total: int
    files_done: int
    chunks_done: int
    embedding_tokens: int
    last_error_code: str
    last_error_message: str
    retired: bool
    customer_id: str
    account_id: str
    livemode: bool
    key_id: str
    from_model_requested: str
    def __init__(self, id: _Optional[str] = ..., store_id: _Optional[str] = ..., status: _Optional[str] = ..., from_model: _Optional[str] = ..., to_model: _Optional[str] = ..., to_model_requested: _Optional[str] = ..., from_generation: _Optional[int] = ..., to_generation: _Optional[int] = ..., created: _Optional[int] = ..., completed_at: _Optional[int] = ..., rollback_until: _Optional[int] = ..., files_total: _Optional[int] = ..., files_done: _Optional[int] = ..., chunks_done: _Optional[int] = ..., embedding_tokens: _Optional[int] = ..., last_error_code: _Optional[str] = ..., last_error_message: _Optional[str] = ..., retired: _Optional[bool] = ..., customer_id: _Optional[str] = ..., account_id: _Optional[str] = ..., livemode: _Optional[bool] = ..., key_id: _Optional[str] = ..., from_model_requested: _Optional[str] = ...) -> None: ...

class StartMigrationRequest(_message.Message):
    __slots__ = ("store_id", "customer_ref", "embedding_model", "embedding_model_requested")
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_REF_FIELD_NUMBER: _ClassVar[int]
    EMBEDDING_MODEL_FIELD_NUMBER: _ClassVar[int]
    EMBEDDING_MODEL_REQUESTED_FIELD_NUMBER: _ClassVar[int]
    store_id: str
    customer_ref: str
    embedding_model: str
    embedding_model_requested: str
    def __init__(self, store_id: _Optional[str] = ..., customer_ref: _Optional[str] = ..., embedding_model: _Optional[str] = ..., embedding_model_requested: _Optional[str] = ...) -> None: ...

class MigrationRequest(_message.Message):
    __slots__ = ("store_id", "customer_ref", "migration_id")
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_REF_FIELD_NUMBER: _ClassVar[int]
    MIGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    store_id: str
    customer_ref: str
    migration_id: str
    def __init__(self, store_id: _Optional[str] = ..., customer_ref: _Optional[str] = ..., migration_id: _Optional[str] = ...) -> None: ...

class MigrationResponse(_message.Message):
    __slots__ = ("migration",)
    MIGRATION_FIELD_NUMBER: _ClassVar[int]
    migration: Migration
    def __init__(self, migration: _Optional[_Union[Migration, _Mapping]] = ...) -> None: ...

class ListMigrationsRequest(_message.Message):
    __slots__ = ("store_id", "customer_ref", "limit", "order", "after")
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_REF_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    AFTER_FIELD_NUMBER: _ClassVar[int]
    store_id: str
    customer_ref: str
    limit: int
    order: str
    after: str
    def __init__(self, store_id: _Optional[str] = ..., customer_ref: _Optional[str] = ..., limit: _Optional[int] = ..., order: _Optional[str] = ..., after: _Optional[str] = ...) -> None: ...

class ListMigrationsResponse(_message.Message):
    __slots__ = ("migrations", "has_more")
    MIGRATIONS_FIELD_NUMBER: _ClassVar[int]
    HAS_MORE_FIELD_NUMBER: _ClassVar[int]
    migrations: _containers.RepeatedCompositeFieldContainer[Migration]
    has_more: bool
    def __init__(self, migrations: _Optional[_Iterable[_Union[Migration, _Mapping]]] = ..., has_more: _Optional[bool] = ...) -> None: ...

class PendingMigrationsRequest(_message.Message):
    __slots__ = ("limit",)
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    limit: int
    def __init__(self, limit: _Optional[int] = ...) -> None: ...

class PendingMigrationsResponse(_message.Message):
    __slots__ = ("migrations",)
    MIGRATIONS_FIELD_NUMBER: _ClassVar[int]
    migrations: _containers.RepeatedCompositeFieldContainer[Migration]
    def __init__(self, migrations: _Optional[_Iterable[_Union[Migration, _Mapping]]] = ...) -> None: ...

class MigrationJobRequest(_message.Message):
    __slots__ = ("migration_id",)
    MIGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    migration_id: str
    def __init__(self, migration_id: _Optional[str] = ...) -> None: ...

class MigrationFile(_message.Message):
    __slots__ = ("file_id", "filename", "sha256", "chunking_json", "attributes_json", "attributes_version")
    FILE_ID_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    CHUNKING_JSON_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_JSON_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_VERSION_FIELD_NUMBER: _ClassVar[int]
    file_id: str
    filename: str
    sha256: str
    chunking_json: str
    attributes_json: str
    attributes_version: int
    def __init__(self, file_id: _Optional[str] = ..., filename: _Optional[str] = ..., sha256: _Optional[str] = ..., chunking_json: _Optional[str] = ..., attributes_json: _Optional[str] = ..., attributes_version: _Optional[int] = ...) -> None: ...

class MigrationJobResponse(_message.Message):
    __slots__ = ("migration", "store", "files", "waiting_files")
    MIGRATION_FIELD_NUMBER: _ClassVar[int]
    STORE_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    WAITING_FILES_FIELD_NUMBER: _ClassVar[int]
    migration: Migration
    store: VectorStore
    files: _containers.RepeatedCompositeFieldContainer[MigrationFile]
    waiting_files: int
    def __init__(self, migration: _Optional[_Union[Migration, _Mapping]] = ..., store: _Optional[_Union[VectorStore, _Mapping]] = ..., files: _Optional[_Iterable[_Union[MigrationFile, _Mapping]]] = ..., waiting_files: _Optional[int] = ...) -> None: ...

class ProgressMigrationRequest(_message.Message):
    __slots__ = ("migration_id", "files_done", "chunks_done", "embedding_tokens")
    MIGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    FILES_DONE_FIELD_NUMBER: _ClassVar[int]
    CHUNKS_DONE_FIELD_NUMBER: _ClassVar[int]
    EMBEDDING_TOKENS_FIELD_NUMBER: _ClassVar[int]
    migration_id: str
    files_done: int
    chunks_done: int
    embedding_tokens: int
    def __init__(self, migration_id: _Optional[str] = ..., files_done: _Optional[int] = ..., chunks_done: _Optional[int] = ..., embedding_tokens: _Optional[int] = ...) -> None: ...

class FinishMigrationRequest(_message.Message):
    __slots__ = ("migration_id", "status", "last_error_code", "last_error_message", "embedding_tokens")
    MIGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    EMBEDDING_TOKENS_FIELD_NUMBER: _ClassVar[int]
    migration_id: str
    status: str
    last_error_code: str
    last_error_message: str
    embedding_tokens: int
    def __init__(self, migration_id: _Optional[str] = ..., status: _Optional[str] = ..., last_error_code: _Optional[str] = ..., last_error_message: _Optional[str] = ..., embedding_tokens: _Optional[int] = ...) -> None: ...

class FinishMigrationResponse(_message.Message):
    __slots__ = ("migration", "waiting_files")
    MIGRATION_FIELD_NUMBER: _ClassVar[int]
    WAITING_FILES_FIELD_NUMBER: _ClassVar[int]
    migration: Migration
    waiting_files: int
    def __init__(self, migration: _Optional[_Union[Migration, _Mapping]] = ..., waiting_files: _Optional[int] = ...) -> None: ...

class RetireMigrationResponse(_message.Message):
    __slots__ = ("migration", "drop_generation")
    MIGRATION_FIELD_NUMBER: _ClassVar[int]
    DROP_GENERATION_FIELD_NUMBER: _ClassVar[int]
    migration: Migration
    drop_generation: int
    def __init__(self, migration: _Optional[_Union[Migration, _Mapping]] = ..., drop_generation: _Optional[int] = ...) -> None: ...

class IngestProgressRequest(_message.Message):
    __slots__ = ("store_id", "file_id", "attach_id")
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    FILE_ID_FIELD_NUMBER: _ClassVar[int]
    ATTACH_ID_FIELD_NUMBER: _ClassVar[int]
    store_id: str
    file_id: str
    attach_id: str
    def __init__(self, store_id: _Optional[str] = ..., file_id: _Optional[str] = ..., attach_id: _Optional[str] = ...) -> None: ...

class IngestProgressResponse(_message.Message):
    __slots__ = ("status",)
    STATUS_FIELD_NUMBER: _ClassVar[int]
    status: str
    def __init__(self, status: _Optional[str] = ...) -> None: ...

class IndexedStoresRequest(_message.Message):
    __slots__ = ("after", "limit")
    AFTER_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    after: str
    limit: int
    def __init__(self, after: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class IndexedStore(_message.Message):
    __slots__ = ("store", "files")
    STORE_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    store: VectorStore
    files: _containers.RepeatedCompositeFieldContainer[MigrationFile]
    def __init__(self, store: _Optional[_Union[VectorStore, _Mapping]] = ..., files: _Optional[_Iterable[_Union[MigrationFile, _Mapping]]] = ...) -> None: ...

class IndexedStoresResponse(_message.Message):
    __slots__ = ("stores", "has_more")
    STORES_FIELD_NUMBER: _ClassVar[int]
    HAS_MORE_FIELD_NUMBER: _ClassVar[int]
    stores: _containers.RepeatedCompositeFieldContainer[IndexedStore]
    has_more: bool
    def __init__(self, stores: _Optional[_Iterable[_Union[IndexedStore, _Mapping]]] = ..., has_more: _Optional[bool] = ...) -> None: ...
