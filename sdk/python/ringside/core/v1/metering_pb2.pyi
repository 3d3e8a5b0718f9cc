from ringside.core.v1 import common_pb2 as _common_pb2
from ringside.core.v1 import requests_pb2 as _requests_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SettleOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SETTLE_OUTCOME_UNSPECIFIED: _ClassVar[SettleOutcome]
    SETTLE_OUTCOME_COMPLETED: _ClassVar[SettleOutcome]
    SETTLE_OUTCOME_ABORTED: _ClassVar[SettleOutcome]
    SETTLE_OUTCOME_FAILED: _ClassVar[SettleOutcome]
SETTLE_OUTCOME_UNSPECIFIED: SettleOutcome
SETTLE_OUTCOME_COMPLETED: SettleOutcome
SETTLE_OUTCOME_ABORTED: SettleOutcome
SETTLE_OUTCOME_FAILED: SettleOutcome

class LendIpBlockRequest(_message.Message):
    __slots__ = ("ip", "want", "returned")
    IP_FIELD_NUMBER: _ClassVar[int]
    WANT_FIELD_NUMBER: _ClassVar[int]
    RETURNED_FIELD_NUMBER: _ClassVar[int]
    ip: str
    want: int
    returned: _containers.RepeatedCompositeFieldContainer[ReturnedIpBlock]
    def __init__(self, ip: _Optional[str] = ..., want: _Optional[int] = ..., returned: _Optional[_Iterable[_Union[ReturnedIpBlock, _Mapping]]] = ...) -> None: ...

class ReturnedIpBlock(_message.Message):
    __slots__ = ("block_id", "used")
    BLOCK_ID_FIELD_NUMBER: _ClassVar[int]
    USED_FIELD_NUMBER: _ClassVar[int]
    block_id: str
    used: int
    def __init__(self, block_id: _Optional[str] = ..., used: _Optional[int] = ...) -> None: ...

class LendIpBlockResponse(_message.Message):
    __slots__ = ("block_id", "size", "lapse_ms", "retry_after_ms", "limit")
    BLOCK_ID_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    LAPSE_MS_FIELD_NUMBER: _ClassVar[int]
    RETRY_AFTER_MS_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    block_id: str
    size: int
    lapse_ms: int
    retry_after_ms: int
    limit: int
    def __init__(self, block_id: _Optional[str] = ..., size: _Optional[int] = ..., lapse_ms: _Optional[int] = ..., retry_after_ms: _Optional[int] = ..., limit: _Optional[int] = ...) -> None: ...

class CountRequestRequest(_message.Message):
    __slots__ = ("authorization", "client_ip", "customer_ref", "customer_rpm", "request_id")
    AUTHORIZATION_FIELD_NUMBER: _ClassVar[int]
    CLIENT_IP_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_REF_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_RPM_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    authorization: str
    client_ip: str
    customer_ref: str
    customer_rpm: bool
    request_id: str
    def __init__(self, authorization: _Optional[str] = ..., client_ip: _Optional[str] = ..., customer_ref: _Optional[str] = ..., customer_rpm: _Optional[bool] = ..., request_id: _Optional[str] = ...) -> None: ...

class CountRequestResponse(_message.Message):
    __slots__ = ("denial", "rate_limits")
    DENIAL_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMITS_FIELD_NUMBER: _ClassVar[int]
    denial: Denial
    rate_limits: RateLimitStatus
    def __init__(self, denial: _Optional[_Union[Denial, _Mapping]] = ..., rate_limits: _Optional[_Union[RateLimitStatus, _Mapping]] = ...) -> None: ...

class ModelPolicyRequest(_message.Message):
    __slots__ = ("api_key", "customer_ref", "user", "client_token", "key_only", "key_id")
    API_KEY_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_REF_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    CLIENT_TOKEN_FIELD_NUMBER: _ClassVar[int]
    KEY_ONLY_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    api_key: str
    customer_ref: str
    user: str
    client_token: str
    key_only: bool
    key_id: str
    def __init__(self, api_key: _Optional[str] = ..., customer_ref: _Optional[str] = ..., user: _Optional[str] = ..., client_token: _Optional[str] = ..., key_only: _Optional[bool] = ..., key_id: _Optional[str] = ...) -> None: ...

class ModelPolicyResponse(_message.Message):
    __slots__ = ("lists",)
    LISTS_FIELD_NUMBER: _ClassVar[int]
    lists: _containers.RepeatedCompositeFieldContainer[_common_pb2.ModelList]
    def __init__(self, lists: _Optional[_Iterable[_Union[_common_pb2.ModelList, _Mapping]]] = ...) -> None: ...

class AuthorizeRequest(_message.Message):
    __slots__ = ("api_key", "customer_ref", "user", "model_ref", "provider", "price", "input_tokens_bound", "requested_output_tokens", "model_max_output_tokens", "choices", "client_ip", "client_token_id", "client_token_rpm", "client_token", "classes", "key_id", "request_id")
    API_KEY_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_REF_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    MODEL_REF_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    INPUT_TOKENS_BOUND_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    MODEL_MAX_OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CHOICES_FIELD_NUMBER: _ClassVar[int]
    CLIENT_IP_FIELD_NUMBER: _ClassVar[int]
    CLIENT_TOKEN_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_TOKEN_RPM_FIELD_NUMBER: _ClassVar[int]
    CLIENT_TOKEN_FIELD_NUMBER: _ClassVar[int]
    CLASSES_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    api_key: str
    customer_ref: str
    user: str
    model_ref: str
    provider: str
    price: _common_pb2.Price
    input_tokens_bound: int
    requested_output_tokens: int
    model_max_output_tokens: int
    choices: int
    client_ip: str
    client_token_id: str
    client_token_rpm: int
    client_token: str
    classes: _common_pb2.PriceClasses
    key_id: str
    request_id: str
    def __init__(self, api_key: _Optional[str] = ..., customer_ref: _Optional[str] = ..., user: _Optional[str] = ..., model_ref: _Optional[str] = ..., provider: _Optional[str] = ..., price: _Optional[_Union[_common_pb2.Price, _Mapping]] = ..., input_tokens_bound: _Optional[int] = ..., requested_output_tokens: _Optional[int] = ..., model_max_output_tokens: _Optional[int] = ..., choices: _Optional[int] = ..., client_ip: _Optional[str] = ..., client_token_id: _Optional[str] = ..., client_token_rpm: _Optional[int] = ..., client_token: _Optional[str] = ..., classes: _Optional[_Union[_common_pb2.PriceClasses, _Mapping]] = ..., key_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class RateLimitStatus(_message.Message):
    __slots__ = ("requests_limit", "requests_remaining", "requests_reset_ms", "tokens_limit", "tokens_remaining", "tokens_reset_ms")
    REQUESTS_LIMIT_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_REMAINING_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_RESET_MS_FIELD_NUMBER: _ClassVar[int]
    TOKENS_LIMIT_FIELD_NUMBER: _ClassVar[int]
    TOKENS_REMAINING_FIELD_NUMBER: _ClassVar[int]
    TOKENS_RESET_MS_FIELD_NUMBER: _ClassVar[int]
    requests_limit: int
    requests_remaining: int
    requests_reset_ms: int
    tokens_limit: int
    tokens_remaining: int
    tokens_reset_ms: int
    def __init__(self, requests_limit: _Optional[int] = ..., requests_remaining: _Optional[int] = ..., requests_reset_ms: _Optional[int] = ..., tokens_limit: _Optional[int] = ..., tokens_remaining: _Optional[int] = ..., tokens_reset_ms: _Optional[int] = ...) -> None: ...

class Denial(_message.Message):
    __slots__ = ("code", "message", "param", "retry_after_seconds", "should_retry", "retry_after_ms")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    PARAM_FIELD_NUMBER: _ClassVar[int]
    RETRY_AFTER_SECONDS_FIELD_NUMBER: _ClassVar[int]
    SHOULD_RETRY_FIELD_NUMBER: _ClassVar[int]
    RETRY_AFTER_MS_FIELD_NUMBER: _ClassVar[int]
    code: str
    message: str
    param: str
    retry_after_seconds: int
    should_retry: bool
    retry_after_ms: int
    def __init__(self, code: _Optional[str] = ..., message: _Optional[str] = ..., param: _Optional[str] = ..., retry_after_seconds: _Optional[int] = ..., should_retry: _Optional[bool] = ..., retry_after_ms: _Optional[int] = ...) -> None: ...

class AuthorizeResponse(_message.Message):
    __slots__ = ("allowed", "denial", "request_id", "account_id", "livemode", "customer_id", "hold_nano_usd", "max_output_tokens", "output_limited", "hold_expires_at", "wallet_balance_nano_usd", "rate_limits")
    ALLOWED_FIELD_NUMBER: _ClassVar[int]
    DENIAL_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    LIVEMODE_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    HOLD_NANO_USD_FIELD_NUMBER: _ClassVar[int]
    MAX_OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_LIMITED_FIELD_NUMBER: _ClassVar[int]
    HOLD_EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    WALLET_BALANCE_NANO_USD_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMITS_FIELD_NUMBER: _ClassVar[int]
    allowed: bool
    denial: Denial
    request_id: str
    account_id: str
    livemode: bool
    customer_id: str
    hold_nano_usd: int
    max_output_tokens: int
    output_limited: bool
    hold_expires_at: int
    wallet_balance_nano_usd: int
    rate_limits: RateLimitStatus
    def __init__(self, allowed: _Optional[bool] = ..., denial: _Optional[_Union[Denial, _Mapping]] = ..., request_id: _Optional[str] = ..., account_id: _Optional[str] = ..., livemode: _Optional[bool] = ..., customer_id: _Optional[str] = ..., hold_nano_usd: _Optional[int] = ..., max_output_tokens: _Optional[int] = ..., output_limited: _Optional[bool] = ..., hold_expires_at: _Optional[int] = ..., wallet_balance_nano_usd: _Optional[int] = ..., rate_limits: _Optional[_Union[RateLimitStatus, _Mapping]] = ...) -> None: ...

class SettleRequest(_message.Message):
    __slots__ = ("request_id", "usage", "outcome", "usage_estimated", "upstream_model")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    USAGE_ESTIMATED_FIELD_NUMBER: _ClassVar[int]
    UPSTREAM_MODEL_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    usage: _common_pb2.TokenCounts
    outcome: SettleOutcome
    usage_estimated: bool
    upstream_model: str
    def __init__(self, request_id: _Optional[str] = ..., usage: _Optional[_Union[_common_pb2.TokenCounts, _Mapping]] = ..., outcome: _Optional[_Union[SettleOutcome, str]] = ..., usage_estimated: _Optional[bool] = ..., upstream_model: _Optional[str] = ...) -> None: ...

class SettleResponse(_message.Message):
    __slots__ = ("cost_nano_usd", "billable_nano_usd", "posted_nano_usd", "unbilled_nano_usd", "replayed", "late", "wallet_balance_nano_usd")
    COST_NANO_USD_FIELD_NUMBER: _ClassVar[int]
    BILLABLE_NANO_USD_FIELD_NUMBER: _ClassVar[int]
    POSTED_NANO_USD_FIELD_NUMBER: _ClassVar[int]
    UNBILLED_NANO_USD_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    LATE_FIELD_NUMBER: _ClassVar[int]
    WALLET_BALANCE_NANO_USD_FIELD_NUMBER: _ClassVar[int]
    cost_nano_usd: int
    billable_nano_usd: int
    posted_nano_usd: int
    unbilled_nano_usd: int
    replayed: bool
    late: bool
    wallet_balance_nano_usd: int
    def __init__(self, cost_nano_usd: _Optional[int] = ..., billable_nano_usd: _Optional[int] = ..., posted_nano_usd: _Optional[int] = ..., unbilled_nano_usd: _Optional[int] = ..., replayed: _Optional[bool] = ..., late: _Optional[bool] = ..., wallet_balance_nano_usd: _Optional[int] = ...) -> None: ...

class ExtendHoldRequest(_message.Message):
    __slots__ = ("request_id",)
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    def __init__(self, request_id: _Optional[str] = ...) -> None: ...

class ExtendHoldResponse(_message.Message):
    __slots__ = ("hold_expires_at",)
    HOLD_EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    hold_expires_at: int
    def __init__(self, hold_expires_at: _Optional[int] = ...) -> None: ...

class AcquireLeaseRequest(_message.Message):
    __slots__ = ("call", "calls", "edge", "lease_id")
    CALL_FIELD_NUMBER: _ClassVar[int]
    CALLS_FIELD_NUMBER: _ClassVar[int]
    EDGE_FIELD_NUMBER: _ClassVar[int]
    LEASE_ID_FIELD_NUMBER: _ClassVar[int]
    call: AuthorizeRequest
    calls: int
    edge: str
    lease_id: str
    def __init__(self, call: _Optional[_Union[AuthorizeRequest, _Mapping]] = ..., calls: _Optional[int] = ..., edge: _Optional[str] = ..., lease_id: _Optional[str] = ...) -> None: ...

class AcquireLeaseResponse(_message.Message):
    __slots__ = ("granted", "denial", "lease_id", "amount_nano_usd", "account_id", "livemode", "customer_id", "markup_bp", "default_max_output_tokens", "expires_at", "rate_limits", "calls", "tokens", "admit_for_ms", "policy")
    GRANTED_FIELD_NUMBER: _ClassVar[int]
    DENIAL_FIELD_NUMBER: _ClassVar[int]
    LEASE_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_NANO_USD_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    LIVEMODE_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    MARKUP_BP_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_MAX_OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMITS_FIELD_NUMBER: _ClassVar[int]
    CALLS_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    ADMIT_FOR_MS_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    granted: bool
    denial: Denial
    lease_id: str
    amount_nano_usd: int
    account_id: str
    livemode: bool
    customer_id: str
    markup_bp: int
    default_max_output_tokens: int
    expires_at: int
    rate_limits: RateLimitStatus
    calls: int
    tokens: int
    admit_for_ms: int
    policy: ModelPolicyResponse
    def __init__(self, granted: _Optional[bool] = ..., denial: _Optional[_Union[Denial, _Mapping]] = ..., lease_id: _Optional[str] = ..., amount_nano_usd: _Optional[int] = ..., account_id: _Optional[str] = ..., livemode: _Optional[bool] = ..., customer_id: _Optional[str] = ..., markup_bp: _Optional[int] = ..., default_max_output_tokens: _Optional[int] = ..., expires_at: _Optional[int] = ..., rate_limits: _Optional[_Union[RateLimitStatus, _Mapping]] = ..., calls: _Optional[int] = ..., tokens: _Optional[int] = ..., admit_for_ms: _Optional[int] = ..., policy: _Optional[_Union[ModelPolicyResponse, _Mapping]] = ...) -> None: ...

class LeaseCall(_message.Message):
    __slots__ = ("request_id", "model_ref", "provider", "price", "estimate_nano_usd", "usage", "outcome", "usage_estimated", "upstream_model")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_REF_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    ESTIMATE_NANO_USD_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    USAGE_ESTIMATED_FIELD_NUMBER: _ClassVar[int]
    UPSTREAM_MODEL_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    model_ref: str
    provider: str
    price: _common_pb2.Price
    estimate_nano_usd: int
    usage: _common_pb2.TokenCounts
    outcome: SettleOutcome
    usage_estimated: bool
    upstream_model: str
    def __init__(self, request_id: _Optional[str] = ..., model_ref: _Optional[str] = ..., provider: _Optional[str] = ..., price: _Optional[_Union[_common_pb2.Price, _Mapping]] = ..., estimate_nano_usd: _Optional[int] = ..., usage: _Optional[_Union[_common_pb2.TokenCounts, _Mapping]] = ..., outcome: _Optional[_Union[SettleOutcome, str]] = ..., usage_estimated: _Optional[bool] = ..., upstream_model: _Optional[str] = ...) -> None: ...

class SettleLeaseCallsRequest(_message.Message):
    __slots__ = ("lease_id", "calls", "close", "admitted", "retired", "entries", "confirm_api_key", "successor", "policy")
    LEASE_ID_FIELD_NUMBER: _ClassVar[int]
    CALLS_FIELD_NUMBER: _ClassVar[int]
    CLOSE_FIELD_NUMBER: _ClassVar[int]
    ADMITTED_FIELD_NUMBER: _ClassVar[int]
    RETIRED_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    CONFIRM_API_KEY_FIELD_NUMBER: _ClassVar[int]
    SUCCESSOR_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    lease_id: str
    calls: _containers.RepeatedCompositeFieldContainer[LeaseCall]
    close: bool
    admitted: _containers.RepeatedCompositeFieldContainer[LeaseCall]
    retired: bool
    entries: _containers.RepeatedCompositeFieldContainer[_requests_pb2.RequestEntry]
    confirm_api_key: str
    successor: AcquireLeaseRequest
    policy: ModelPolicyRequest
    def __init__(self, lease_id: _Optional[str] = ..., calls: _Optional[_Iterable[_Union[LeaseCall, _Mapping]]] = ..., close: _Optional[bool] = ..., admitted: _Optional[_Iterable[_Union[LeaseCall, _Mapping]]] = ..., retired: _Optional[bool] = ..., entries: _Optional[_Iterable[_Union[_requests_pb2.RequestEntry, _Mapping]]] = ..., confirm_api_key: _Optional[str] = ..., successor: _Optional[_Union[AcquireLeaseRequest, _Mapping]] = ..., policy: _Optional[_Union[ModelPolicyRequest, _Mapping]] = ...) -> None: ...

class SettleLeaseReportsRequest(_message.Message):
    __slots__ = ("reports",)
    REPORTS_FIELD_NUMBER: _ClassVar[int]
    reports: _containers.RepeatedCompositeFieldContainer[SettleLeaseCallsRequest]
    def __init__(self, reports: _Optional[_Iterable[_Union[SettleLeaseCallsRequest, _Mapping]]] = ...) -> None: ...

class SettleLeaseReportsResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[LeaseReportResult]
    def __init__(self, results: _Optional[_Iterable[_Union[LeaseReportResult, _Mapping]]] = ...) -> None: ...

class LeaseReportResult(_message.Message):
    __slots__ = ("answer", "error_code", "error_message")
    ANSWER_FIELD_NUMBER: _ClassVar[int]
    ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    answer: SettleLeaseCallsResponse
    error_code: str
    error_message: str
    def __init__(self, answer: _Optional[_Union[SettleLeaseCallsResponse, _Mapping]] = ..., error_code: _Optional[str] = ..., error_message: _Optional[str] = ...) -> None: ...

class SettleLeaseCallsResponse(_message.Message):
    __slots__ = ("recorded", "closed", "entries_recorded", "api_key_valid", "successor", "policy")
    RECORDED_FIELD_NUMBER: _ClassVar[int]
    CLOSED_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_RECORDED_FIELD_NUMBER: _ClassVar[int]
    API_KEY_VALID_FIELD_NUMBER: _ClassVar[int]
    SUCCESSOR_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    recorded: int
    closed: bool
    entries_recorded: int
    api_key_valid: bool
    successor: AcquireLeaseResponse
    policy: ModelPolicyResponse
    def __init__(self, recorded: _Optional[int] = ..., closed: _Optional[bool] = ..., entries_recorded: _Optional[int] = ..., api_key_valid: _Optional[bool] = ..., successor: _Optional[_Union[AcquireLeaseResponse, _Mapping]] = ..., policy: _Optional[_Union[ModelPolicyResponse, _Mapping]] = ...) -> None: ...
