from ringside.core.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Wallet(_message.Message):
    __slots__ = ("enabled", "balance_nano_usd", "low_threshold_nano_usd")
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    BALANCE_NANO_USD_FIELD_NUMBER: _ClassVar[int]
    LOW_THRESHOLD_NANO_USD_FIELD_NUMBER: _ClassVar[int]
    enabled: bool
    balance_nano_usd: int
    low_threshold_nano_usd: int
    def __init__(self, enabled: _Optional[bool] = ..., balance_nano_usd: _Optional[int] = ..., low_threshold_nano_usd: _Optional[int] = ...) -> None: ...

class Customer(_message.Message):
    __slots__ = ("id", "livemode", "external_id", "name", "email", "metadata_json", "budget_nano_usd", "rate_limit_rpm", "rate_limit_tpm", "blocked", "tier_id", "billing_anchor_day", "stripe_customer_id", "spend_nano_usd_mtd", "request_count_mtd", "budget_status", "period_start", "period_end", "wallet", "created", "held_nano_usd", "limits_source", "erasure_status", "allowed_models")
    class LimitsSourceEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    LIVEMODE_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    METADATA_JSON_FIELD_NUMBER: _ClassVar[int]
    BUDGET_NANO_USD_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMIT_RPM_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMIT_TPM_FIELD_NUMBER: _ClassVar[int]
    BLOCKED_FIELD_NUMBER: _ClassVar[int]
    TIER_ID_FIELD_NUMBER: _ClassVar[int]
    BILLING_ANCHOR_DAY_FIELD_NUMBER: _ClassVar[int]
    STRIPE_CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    SPEND_NANO_USD_MTD_FIELD_NUMBER: _ClassVar[int]
    REQUEST_COUNT_MTD_FIELD_NUMBER: _ClassVar[int]
    BUDGET_STATUS_FIELD_NUMBER: _ClassVar[int]
    PERIOD_START_FIELD_NUMBER: _ClassVar[int]
    PERIOD_END_FIELD_NUMBER: _ClassVar[int]
    WALLET_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    HELD_NANO_USD_FIELD_NUMBER: _ClassVar[int]
    LIMITS_SOURCE_FIELD_NUMBER: _ClassVar[int]
    ERASURE_STATUS_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_MODELS_FIELD_NUMBER: _ClassVar[int]
    id: str
    livemode: bool
    external_id: str
    name: str
    email: str
    metadata_json: str
    budget_nano_usd: int
    rate_limit_rpm: int
    rate_limit_tpm: int
    blocked: bool
    tier_id: str
    billing_anchor_day: int
    stripe_customer_id: str
    spend_nano_usd_mtd: int
    request_count_mtd: int
    budget_status: str
    period_start: int
    period_end: int
    wallet: Wallet
    created: int
    held_nano_usd: int
    limits_source: _containers.ScalarMap[str, str]
    erasure_status: str
    allowed_models: _common_pb2.ModelList
    def __init__(self, id: _Optional[str] = ..., livemode: _Optional[bool] = ..., external_id: _Optional[str] = ..., name: _Optional[str] = ..., email: _Optional[str] = ..., metadata_json: _Optional[str] = ..., budget_nano_usd: _Optional[int] = ..., rate_limit_rpm: _Optional[int] = ..., rate_limit_tpm: _Optional[int] = ..., blocked: _Optional[bool] = ..., tier_id: _Optional[str] = ..., billing_anchor_day: _Optional[int] = ..., stripe_customer_id: _Optional[str] = ..., spend_nano_usd_mtd: _Optional[int] = ..., request_count_mtd: _Optional[int] = ..., budget_status: _Optional[str] = ..., period_start: _Optional[int] = ..., period_end: _Optional[int] = ..., wallet: _Optional[_Union[Wallet, _Mapping]] = ..., created: _Optional[int] = ..., held_nano_usd: _Optional[int] = ..., limits_source: _Optional[_Mapping[str, str]] = ..., erasure_status: _Optional[str] = ..., allowed_models: _Optional[_Union[_common_pb2.ModelList, _Mapping]] = ...) -> None: ...

class CreateCustomerRequest(_message.Message):
    __slots__ = ("external_id", "name", "email", "metadata_json", "budget_nano_usd", "budget_unlimited", "rate_limit_rpm", "rate_limit_tpm", "blocked", "billing_anchor_day", "wallet_enabled", "tier", "wallet_low_threshold_nano_usd", "stripe_customer_id", "allowed_models", "allowed_models_unlimited")
    EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    METADATA_JSON_FIELD_NUMBER: _ClassVar[int]
    BUDGET_NANO_USD_FIELD_NUMBER: _ClassVar[int]
    BUDGET_UNLIMITED_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMIT_RPM_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMIT_TPM_FIELD_NUMBER: _ClassVar[int]
    BLOCKED_FIELD_NUMBER: _ClassVar[int]
    BILLING_ANCHOR_DAY_FIELD_NUMBER: _ClassVar[int]
    WALLET_ENABLED_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    WALLET_LOW_THRESHOLD_NANO_USD_FIELD_NUMBER: _ClassVar[int]
    STRIPE_CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_MODELS_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_MODELS_UNLIMITED_FIELD_NUMBER: _ClassVar[int]
    external_id: str
    name: str
    email: str
    metadata_json: str
    budget_nano_usd: int
    budget_unlimited: bool
    rate_limit_rpm: int
    rate_limit_tpm: int
    blocked: bool
    billing_anchor_day: int
    wallet_enabled: bool
    tier: str
    wallet_low_threshold_nano_usd: int
    stripe_customer_id: str
    allowed_models: _common_pb2.ModelList
    allowed_models_unlimited: bool
    def __init__(self, external_id: _Optional[str] = ..., name: _Optional[str] = ..., email: _Optional[str] = ..., metadata_json: _Optional[str] = ..., budget_nano_usd: _Optional[int] = ..., budget_unlimited: _Optional[bool] = ..., rate_limit_rpm: _Optional[int] = ..., rate_limit_tpm: _Optional[int] = ..., blocked: _Optional[bool] = ..., billing_anchor_day: _Optional[int] = ..., wallet_enabled: _Optional[bool] = ..., tier: _Optional[str] = ..., wallet_low_threshold_nano_usd: _Optional[int] = ..., stripe_customer_id: _Optional[str] = ..., allowed_models: _Optional[_Union[_common_pb2.ModelList, _Mapping]] = ..., allowed_models_unlimited: _Optional[bool] = ...) -> None: ...

class CreateCustomerResponse(_message.Message):
    __slots__ = ("customer", "created")
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    customer: Customer
    created: bool
    def __init__(self, customer: _Optional[_Union[Customer, _Mapping]] = ..., created: _Optional[bool] = ...) -> None: ...

class UpdateCustomerRequest(_message.Message):
    __slots__ = ("id", "external_id", "name", "email", "metadata_json", "budget_nano_usd", "budget_unlimited", "rate_limit_rpm", "rate_limit_tpm", "rate_limit_rpm_unlimited", "rate_limit_tpm_unlimited", "blocked", "billing_anchor_day", "wallet_enabled", "unset", "tier", "wallet_low_threshold_nano_usd", "stripe_customer_id", "allowed_models", "allowed_models_unlimited")
    ID_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    METADATA_JSON_FIELD_NUMBER: _ClassVar[int]
    BUDGET_NANO_USD_FIELD_NUMBER: _ClassVar[int]
    BUDGET_UNLIMITED_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMIT_RPM_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMIT_TPM_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMIT_RPM_UNLIMITED_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMIT_TPM_UNLIMITED_FIELD_NUMBER: _ClassVar[int]
    BLOCKED_FIELD_NUMBER: _ClassVar[int]
    BILLING_ANCHOR_DAY_FIELD_NUMBER: _ClassVar[int]
    WALLET_ENABLED_FIELD_NUMBER: _ClassVar[int]
    UNSET_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    WALLET_LOW_THRESHOLD_NANO_USD_FIELD_NUMBER: _ClassVar[int]
    STRIPE_CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_MODELS_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_MODELS_UNLIMITED_FIELD_NUMBER: _ClassVar[int]
    id: str
    external_id: str
    name: str
    email: str
    metadata_json: str
    budget_nano_usd: int
    budget_unlimited: bool
    rate_limit_rpm: int
    rate_limit_tpm: int
    rate_limit_rpm_unlimited: bool
    rate_limit_tpm_unlimited: bool
    blocked: bool
    billing_anchor_day: int
    wallet_enabled: bool
    unset: _containers.RepeatedScalarFieldContainer[str]
    tier: str
    wallet_low_threshold_nano_usd: int
    stripe_customer_id: str
    allowed_models: _common_pb2.ModelList
    allowed_models_unlimited: bool
    def __init__(self, id: _Optional[str] = ..., external_id: _Optional[str] = ..., name: _Optional[str] = ..., email: _Optional[str] = ..., metadata_json: _Optional[str] = ..., budget_nano_usd: _Optional[int] = ..., budget_unlimited: _Optional[bool] = ..., rate_limit_rpm: _Optional[int] = ..., rate_limit_tpm: _Optional[int] = ..., rate_limit_rpm_unlimited: _Optional[bool] = ..., rate_limit_tpm_unlimited: _Optional[bool] = ..., blocked: _Optional[bool] = ..., billing_anchor_day: _Optional[int] = ..., wallet_enabled: _Optional[bool] = ..., unset: _Optional[_Iterable[str]] = ..., tier: _Optional[str] = ..., wallet_low_threshold_nano_usd: _Optional[int] = ..., stripe_customer_id: _Optional[str] = ..., allowed_models: _Optional[_Union[_common_pb2.ModelList, _Mapping]] = ..., allowed_models_unlimited: _Optional[bool] = ...) -> None: ...

class UpdateCustomerResponse(_message.Message):
    __slots__ = ("customer",)
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    customer: Customer
    def __init__(self, customer: _Optional[_Union[Customer, _Mapping]] = ...) -> None: ...

class ListCustomersRequest(_message.Message):
    __slots__ = ("limit", "starting_after", "ending_before", "external_id", "query")
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    STARTING_AFTER_FIELD_NUMBER: _ClassVar[int]
    ENDING_BEFORE_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    limit: int
    starting_after: str
    ending_before: str
    external_id: str
    query: str
    def __init__(self, limit: _Optional[int] = ..., starting_after: _Optional[str] = ..., ending_before: _Optional[str] = ..., external_id: _Optional[str] = ..., query: _Optional[str] = ...) -> None: ...

class ListCustomersResponse(_message.Message):
    __slots__ = ("customers", "has_more")
    CUSTOMERS_FIELD_NUMBER: _ClassVar[int]
    HAS_MORE_FIELD_NUMBER: _ClassVar[int]
    customers: _containers.RepeatedCompositeFieldContainer[Customer]
    has_more: bool
    def __init__(self, customers: _Optional[_Iterable[_Union[Customer, _Mapping]]] = ..., has_more: _Optional[bool] = ...) -> None: ...

class DeleteCustomerRequest(_message.Message):
    __slots__ = ("id", "force")
    ID_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    id: str
    force: bool
    def __init__(self, id: _Optional[str] = ..., force: _Optional[bool] = ...) -> None: ...

class DeleteCustomerResponse(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetCustomerRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetCustomerResponse(_message.Message):
    __slots__ = ("customer",)
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    customer: Customer
    def __init__(self, customer: _Optional[_Union[Customer, _Mapping]] = ...) -> None: ...

class EraseCustomerRequest(_message.Message):
    __slots__ = ("id", "force")
    ID_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    id: str
    force: bool
    def __init__(self, id: _Optional[str] = ..., force: _Optional[bool] = ...) -> None: ...

class EraseCustomerResponse(_message.Message):
    __slots__ = ("id", "status", "customer")
    ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    id: str
    status: str
    customer: Customer
    def __init__(self, id: _Optional[str] = ..., status: _Optional[str] = ..., customer: _Optional[_Union[Customer, _Mapping]] = ...) -> None: ...

class DeleteCustomersRequest(_message.Message):
    __slots__ = ("ids",)
    IDS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ids: _Optional[_Iterable[str]] = ...) -> None: ...

class DeleteCustomersResponse(_message.Message):
    __slots__ = ("ids",)
    IDS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ids: _Optional[_Iterable[str]] = ...) -> None: ...

class SetCustomersBlockedRequest(_message.Message):
    __slots__ = ("ids", "blocked")
    IDS_FIELD_NUMBER: _ClassVar[int]
    BLOCKED_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    blocked: bool
    def __init__(self, ids: _Optional[_Iterable[str]] = ..., blocked: _Optional[bool] = ...) -> None: ...

class SetCustomersBlockedResponse(_message.Message):
    __slots__ = ("ids",)
    IDS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ids: _Optional[_Iterable[str]] = ...) -> None: ...
