from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreateClientTokenRequest(_message.Message):
    __slots__ = ("customer_id", "ttl_seconds", "origin", "ip", "allowed_endpoints")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    TTL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    IP_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_ENDPOINTS_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    ttl_seconds: int
    origin: str
    ip: str
    allowed_endpoints: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, customer_id: _Optional[str] = ..., ttl_seconds: _Optional[int] = ..., origin: _Optional[str] = ..., ip: _Optional[str] = ..., allowed_endpoints: _Optional[_Iterable[str]] = ...) -> None: ...

class CreateClientTokenResponse(_message.Message):
    __slots__ = ("token", "id", "customer_id", "expires_at", "created", "allowed_endpoints", "origin", "ip")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_ENDPOINTS_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    IP_FIELD_NUMBER: _ClassVar[int]
    token: str
    id: str
    customer_id: str
    expires_at: int
    created: int
    allowed_endpoints: _containers.RepeatedScalarFieldContainer[str]
    origin: str
    ip: str
    def __init__(self, token: _Optional[str] = ..., id: _Optional[str] = ..., customer_id: _Optional[str] = ..., expires_at: _Optional[int] = ..., created: _Optional[int] = ..., allowed_endpoints: _Optional[_Iterable[str]] = ..., origin: _Optional[str] = ..., ip: _Optional[str] = ...) -> None: ...

class RevokeClientTokensRequest(_message.Message):
    __slots__ = ("customer_id",)
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    def __init__(self, customer_id: _Optional[str] = ...) -> None: ...

class RevokeClientTokensResponse(_message.Message):
    __slots__ = ("revoked_before_ms",)
    REVOKED_BEFORE_MS_FIELD_NUMBER: _ClassVar[int]
    revoked_before_ms: int
    def __init__(self, revoked_before_ms: _Optional[int] = ...) -> None: ...

class ListSigningKeysRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SigningPublicKey(_message.Message):
    __slots__ = ("kid", "public_key_b64", "created", "retired_at")
    KID_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_B64_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    RETIRED_AT_FIELD_NUMBER: _ClassVar[int]
    kid: str
    public_key_b64: str
    created: int
    retired_at: int
    def __init__(self, kid: _Optional[str] = ..., public_key_b64: _Optional[str] = ..., created: _Optional[int] = ..., retired_at: _Optional[int] = ...) -> None: ...

class ListSigningKeysResponse(_message.Message):
    __slots__ = ("keys",)
    KEYS_FIELD_NUMBER: _ClassVar[int]
    keys: _containers.RepeatedCompositeFieldContainer[SigningPublicKey]
    def __init__(self, keys: _Optional[_Iterable[_Union[SigningPublicKey, _Mapping]]] = ...) -> None: ...

class RotateSigningKeyRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RotateSigningKeyResponse(_message.Message):
    __slots__ = ("key",)
    KEY_FIELD_NUMBER: _ClassVar[int]
    key: SigningPublicKey
    def __init__(self, key: _Optional[_Union[SigningPublicKey, _Mapping]] = ...) -> None: ...
