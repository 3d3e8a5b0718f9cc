from ringside.core.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Tier(_message.Message):
    __slots__ = ("id", "livemode", "name", "budget_nano_usd", "rate_limit_rpm", "rate_limit_tpm", "markup_bp", "created", "allowed_models")
    ID_FIELD_NUMBER: _ClassVar[int]
    LIVEMODE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    BUDGET_NANO_USD_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMIT_RPM_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMIT_TPM_FIELD_NUMBER: _ClassVar[int]
    MARKUP_BP_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_MODELS_FIELD_NUMBER: _ClassVar[int]
    id: str
    livemode: bool
    name: str
    budget_nano_usd: int
    rate_limit_rpm: int
    rate_limit_tpm: int
    markup_bp: int
    created: int
    allowed_models: _common_pb2.ModelList
    def __init__(self, id: _Optional[str] = ..., livemode: _Optional[bool] = ..., name: _Optional[str] = ..., budget_nano_usd: _Optional[int] = ..., rate_limit_rpm: _Optional[int] = ..., rate_limit_tpm: _Optional[int] = ..., markup_bp: _Optional[int] = ..., created: _Optional[int] = ..., allowed_models: _Optional[_Union[_common_pb2.ModelList, _Mapping]] = ...) -> None: ...

class TierFields(_message.Message):
    __slots__ = ("name", "budget_nano_usd", "rate_limit_rpm", "rate_limit_tpm", "markup_bp", "fields", "allowed_models")
    NAME_FIELD_NUMBER: _ClassVar[int]
    BUDGET_NANO_USD_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMIT_RPM_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMIT_TPM_FIELD_NUMBER: _ClassVar[int]
    MARKUP_BP_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_MODELS_FIELD_NUMBER: _ClassVar[int]
    name: str
    budget_nano_usd: int
    rate_limit_rpm: int
    rate_limit_tpm: int
    markup_bp: int
    fields: _containers.RepeatedScalarFieldContainer[str]
    allowed_models: _common_pb2.ModelList
    def __init__(self, name: _Optional[str] = ..., budget_nano_usd: _Optional[int] = ..., rate_limit_rpm: _Optional[int] = ..., rate_limit_tpm: _Optional[int] = ..., markup_bp: _Optional[int] = ..., fields: _Optional[_Iterable[str]] = ..., allowed_models: _Optional[_Union[_common_pb2.ModelList, _Mapping]] = ...) -> None: ...

class CreateTierRequest(_message.Message):
    __slots__ = ("tier",)
    TIER_FIELD_NUMBER: _ClassVar[int]
    tier: TierFields
    def __init__(self, tier: _Optional[_Union[TierFields, _Mapping]] = ...) -> None: ...

class CreateTierResponse(_message.Message):
    __slots__ = ("tier",)
    TIER_FIELD_NUMBER: _ClassVar[int]
    tier: Tier
    def __init__(self, tier: _Optional[_Union[Tier, _Mapping]] = ...) -> None: ...

class GetTierRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetTierResponse(_message.Message):
    __slots__ = ("tier",)
    TIER_FIELD_NUMBER: _ClassVar[int]
    tier: Tier
    def __init__(self, tier: _Optional[_Union[Tier, _Mapping]] = ...) -> None: ...

class ListTiersRequest(_message.Message):
    __slots__ = ("page",)
    PAGE_FIELD_NUMBER: _ClassVar[int]
    page: _common_pb2.PageRequest
    def __init__(self, page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class ListTiersResponse(_message.Message):
    __slots__ = ("tiers", "has_more")
    TIERS_FIELD_NUMBER: _ClassVar[int]
    HAS_MORE_FIELD_NUMBER: _ClassVar[int]
    tiers: _containers.RepeatedCompositeFieldContainer[Tier]
    has_more: bool
    def __init__(self, tiers: _Optional[_Iterable[_Union[Tier, _Mapping]]] = ..., has_more: _Optional[bool] = ...) -> None: ...

class UpdateTierRequest(_message.Message):
    __slots__ = ("id", "tier")
    ID_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    id: str
    tier: TierFields
    def __init__(self, id: _Optional[str] = ..., tier: _Optional[_Union[TierFields, _Mapping]] = ...) -> None: ...

class UpdateTierResponse(_message.Message):
    __slots__ = ("tier",)
    TIER_FIELD_NUMBER: _ClassVar[int]
    tier: Tier
    def __init__(self, tier: _Optional[_Union[Tier, _Mapping]] = ...) -> None: ...

class DeleteTierRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class DeleteTierResponse(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...
