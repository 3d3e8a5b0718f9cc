from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class IndexRef(_message.Message):
    __slots__ = ("store_id", "generation")
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    store_id: str
    generation: int
    def __init__(self, store_id: _Optional[str] = ..., generation: _Optional[int] = ...) -> None: ...

class EmbedRequest(_message.Message):
    __slots__ = ("texts", "model")
    TEXTS_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    texts: _containers.RepeatedScalarFieldContainer[str]
    model: str
    def __init__(self, texts: _Optional[_Iterable[str]] = ..., model: _Optional[str] = ...) -> None: ...

class Vector(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, values: _Optional[_Iterable[float]] = ...) -> None: ...

class EmbedResponse(_message.Message):
    __slots__ = ("embeddings", "token_counts", "total_tokens")
    EMBEDDINGS_FIELD_NUMBER: _ClassVar[int]
    TOKEN_COUNTS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_TOKENS_FIELD_NUMBER: _ClassVar[int]
    embeddings: _containers.RepeatedCompositeFieldContainer[Vector]
    token_counts: _containers.RepeatedScalarFieldContainer[int]
    total_tokens: int
    def __init__(self, embeddings: _Optional[_Iterable[_Union[Vector, _Mapping]]] = ..., token_counts: _Optional[_Iterable[int]] = ..., total_tokens: _Optional[int] = ...) -> None: ...

class Point(_message.Message):
    __slots__ = ("id", "vector", "file_id", "chunk_index", "text", "filename", "attributes_json", "attributes_version")
    ID_FIELD_NUMBER: _ClassVar[int]
    VECTOR_FIELD_NUMBER: _ClassVar[int]
    FILE_ID_FIELD_NUMBER: _ClassVar[int]
    CHUNK_INDEX_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_JSON_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_VERSION_FIELD_NUMBER: _ClassVar[int]
    id: str
    vector: _containers.RepeatedScalarFieldContainer[float]
    file_id: str
    chunk_index: int
    text: str
    filename: str
    attributes_json: str
    attributes_version: int
    def __init__(self, id: _Optional[str] = ..., vector: _Optional[_Iterable[float]] = ..., file_id: _Optional[str] = ..., chunk_index: _Optional[int] = ..., text: _Optional[str] = ..., filename: _Optional[str] = ..., attributes_json: _Optional[str] = ..., attributes_version: _Optional[int] = ...) -> None: ...

class UpsertRequest(_message.Message):
    __slots__ = ("index", "points")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    index: IndexRef
    points: _containers.RepeatedCompositeFieldContainer[Point]
    def __init__(self, index: _Optional[_Union[IndexRef, _Mapping]] = ..., points: _Optional[_Iterable[_Union[Point, _Mapping]]] = ...) -> None: ...

class UpsertResponse(_message.Message):
    __slots__ = ("upserted",)
    UPSERTED_FIELD_NUMBER: _ClassVar[int]
    upserted: int
    def __init__(self, upserted: _Optional[int] = ...) -> None: ...

class SearchRequest(_message.Message):
    __slots__ = ("index", "query", "vector", "max_num_results", "filters_json", "score_threshold")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    VECTOR_FIELD_NUMBER: _ClassVar[int]
    MAX_NUM_RESULTS_FIELD_NUMBER: _ClassVar[int]
    FILTERS_JSON_FIELD_NUMBER: _ClassVar[int]
    SCORE_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    index: IndexRef
    query: str
    vector: _containers.RepeatedScalarFieldContainer[float]
    max_num_results: int
    filters_json: str
    score_threshold: float
    def __init__(self, index: _Optional[_Union[IndexRef, _Mapping]] = ..., query: _Optional[str] = ..., vector: _Optional[_Iterable[float]] = ..., max_num_results: _Optional[int] = ..., filters_json: _Optional[str] = ..., score_threshold: _Optional[float] = ...) -> None: ...

class SearchHit(_message.Message):
    __slots__ = ("id", "score", "file_id", "filename", "chunk_index", "text", "attributes_json")
    ID_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    FILE_ID_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    CHUNK_INDEX_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_JSON_FIELD_NUMBER: _ClassVar[int]
    id: str
    score: float
    file_id: str
    filename: str
    chunk_index: int
    text: str
    attributes_json: str
    def __init__(self, id: _Optional[str] = ..., score: _Optional[float] = ..., file_id: _Optional[str] = ..., filename: _Optional[str] = ..., chunk_index: _Optional[int] = ..., text: _Optional[str] = ..., attributes_json: _Optional[str] = ...) -> None: ...

class SearchResponse(_message.Message):
    __slots__ = ("hits", "query_tokens")
    HITS_FIELD_NUMBER: _ClassVar[int]
    QUERY_TOKENS_FIELD_NUMBER: _ClassVar[int]
    hits: _containers.RepeatedCompositeFieldContainer[SearchHit]
    query_tokens: int
    def __init__(self, hits: _Optional[_Iterable[_Union[SearchHit, _Mapping]]] = ..., query_tokens: _Optional[int] = ...) -> None: ...

class DeleteFileRequest(_message.Message):
    __slots__ = ("index", "file_id")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    FILE_ID_FIELD_NUMBER: _ClassVar[int]
    index: IndexRef
    file_id: str
    def __init__(self, index: _Optional[_Union[IndexRef, _Mapping]] = ..., file_id: _Optional[str] = ...) -> None: ...

class DeleteFileResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class DropIndexRequest(_message.Message):
    __slots__ = ("index",)
    INDEX_FIELD_NUMBER: _ClassVar[int]
    index: IndexRef
    def __init__(self, index: _Optional[_Union[IndexRef, _Mapping]] = ...) -> None: ...

class DropIndexResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SetFileAttributesRequest(_message.Message):
    __slots__ = ("index", "file_id", "attributes_json", "attributes_version")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    FILE_ID_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_JSON_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_VERSION_FIELD_NUMBER: _ClassVar[int]
    index: IndexRef
    file_id: str
    attributes_json: str
    attributes_version: int
    def __init__(self, index: _Optional[_Union[IndexRef, _Mapping]] = ..., file_id: _Optional[str] = ..., attributes_json: _Optional[str] = ..., attributes_version: _Optional[int] = ...) -> None: ...

class SetFileAttributesResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
