from ringside.core.v1 import common_pb2 as _common_pb2
from ringside.core.v1 import keys_pb2 as _keys_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AccountSettings(_message.Message):
    __slots__ = ("account_id", "auto_create_customers", "markup_bp", "default_max_output_tokens", "default_tier_id", "prepaid_balance_enabled", "prepaid_balance_nano_usd", "low_threshold_pct", "require_customer", "bare_model_provider")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    AUTO_CREATE_CUSTOMERS_FIELD_NUMBER: _ClassVar[int]
    MARKUP_BP_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_MAX_OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_TIER_ID_FIELD_NUMBER: _ClassVar[int]
    PREPAID_BALANCE_ENABLED_FIELD_NUMBER: _ClassVar[int]
    PREPAID_BALANCE_NANO_USD_FIELD_NUMBER: _ClassVar[int]
    LOW_THRESHOLD_PCT_FIELD_NUMBER: _ClassVar[int]
    REQUIRE_CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    BARE_MODEL_PROVIDER_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    auto_create_customers: bool
    markup_bp: int
    default_max_output_tokens: int
    default_tier_id: str
    prepaid_balance_enabled: bool
    prepaid_balance_nano_usd: int
    low_threshold_pct: int
    require_customer: bool
    bare_model_provider: str
    def __init__(self, account_id: _Optional[str] = ..., auto_create_customers: _Optional[bool] = ..., markup_bp: _Optional[int] = ..., default_max_output_tokens: _Optional[int] = ..., default_tier_id: _Optional[str] = ..., prepaid_balance_enabled: _Optional[bool] = ..., prepaid_balance_nano_usd: _Optional[int] = ..., low_threshold_pct: _Optional[int] = ..., require_customer: _Optional[bool] = ..., bare_model_provider: _Optional[str] = ...) -> None: ...

class GetAccountSettingsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetAccountSettingsResponse(_message.Message):
    __slots__ = ("settings",)
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    settings: AccountSettings
    def __init__(self, settings: _Optional[_Union[AccountSettings, _Mapping]] = ...) -> None: ...

class UpdateAccountSettingsRequest(_message.Message):
    __slots__ = ("auto_create_customers", "markup_bp", "default_max_output_tokens", "default_tier", "prepaid_balance_enabled", "low_threshold_pct", "require_customer", "bare_model_provider")
    AUTO_CREATE_CUSTOMERS_FIELD_NUMBER: _ClassVar[int]
    MARKUP_BP_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_MAX_OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_TIER_FIELD_NUMBER: _ClassVar[int]
    PREPAID_BALANCE_ENABLED_FIELD_NUMBER: _ClassVar[int]
    LOW_THRESHOLD_PCT_FIELD_NUMBER: _ClassVar[int]
    REQUIRE_CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    BARE_MODEL_PROVIDER_FIELD_NUMBER: _ClassVar[int]
    auto_create_customers: bool
    markup_bp: int
    default_max_output_tokens: int
    default_tier: str
    prepaid_balance_enabled: bool
    low_threshold_pct: int
    require_customer: bool
    bare_model_provider: str
    def __init__(self, auto_create_customers: _Optional[bool] = ..., markup_bp: _Optional[int] = ..., default_max_output_tokens: _Optional[int] = ..., default_tier: _Optional[str] = ..., prepaid_balance_enabled: _Optional[bool] = ..., low_threshold_pct: _Optional[int] = ..., require_customer: _Optional[bool] = ..., bare_model_provider: _Optional[str] = ...) -> None: ...

class UpdateAccountSettingsResponse(_message.Message):
    __slots__ = ("settings",)
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    settings: AccountSettings
    def __init__(self, settings: _Optional[_Union[AccountSettings, _Mapping]] = ...) -> None: ...

class Account(_message.Message):
    __slots__ = ("id", "name", "created", "prepaid_balance_enabled", "prepaid_balance_nano_usd")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    PREPAID_BALANCE_ENABLED_FIELD_NUMBER: _ClassVar[int]
    PREPAID_BALANCE_NANO_USD_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    created: int
    prepaid_balance_enabled: bool
    prepaid_balance_nano_usd: int
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., created: _Optional[int] = ..., prepaid_balance_enabled: _Optional[bool] = ..., prepaid_balance_nano_usd: _Optional[int] = ...) -> None: ...

class TopUpAccountBalanceRequest(_message.Message):
    __slots__ = ("account_id", "amount_nano_usd", "description", "transfer_id")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_NANO_USD_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    TRANSFER_ID_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    amount_nano_usd: int
    description: str
    transfer_id: str
    def __init__(self, account_id: _Optional[str] = ..., amount_nano_usd: _Optional[int] = ..., description: _Optional[str] = ..., transfer_id: _Optional[str] = ...) -> None: ...

class TopUpAccountBalanceResponse(_message.Message):
    __slots__ = ("account", "transfer_id")
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    TRANSFER_ID_FIELD_NUMBER: _ClassVar[int]
    account: Account
    transfer_id: str
    def __init__(self, account: _Optional[_Union[Account, _Mapping]] = ..., transfer_id: _Optional[str] = ...) -> None: ...

class CreateAccountRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class CreateAccountResponse(_message.Message):
    __slots__ = ("account", "live_key", "test_key")
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    LIVE_KEY_FIELD_NUMBER: _ClassVar[int]
    TEST_KEY_FIELD_NUMBER: _ClassVar[int]
    account: Account
    live_key: _keys_pb2.ApiKey
    test_key: _keys_pb2.ApiKey
    def __init__(self, account: _Optional[_Union[Account, _Mapping]] = ..., live_key: _Optional[_Union[_keys_pb2.ApiKey, _Mapping]] = ..., test_key: _Optional[_Union[_keys_pb2.ApiKey, _Mapping]] = ...) -> None: ...

class ListAccountsRequest(_message.Message):
    __slots__ = ("page",)
    PAGE_FIELD_NUMBER: _ClassVar[int]
    page: _common_pb2.PageRequest
    def __init__(self, page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class ListAccountsResponse(_message.Message):
    __slots__ = ("accounts", "has_more")
    ACCOUNTS_FIELD_NUMBER: _ClassVar[int]
    HAS_MORE_FIELD_NUMBER: _ClassVar[int]
    accounts: _containers.RepeatedCompositeFieldContainer[Account]
    has_more: bool
    def __init__(self, accounts: _Optional[_Iterable[_Union[Account, _Mapping]]] = ..., has_more: _Optional[bool] = ...) -> None: ...
