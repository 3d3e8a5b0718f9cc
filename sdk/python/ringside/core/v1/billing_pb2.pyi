from ringside.core.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ClosePeriodsRequest(_message.Message):
    __slots__ = ("limit",)
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    limit: int
    def __init__(self, limit: _Optional[int] = ...) -> None: ...

class ClosePeriodsResponse(_message.Message):
    __slots__ = ("closed", "waiting", "has_more")
    CLOSED_FIELD_NUMBER: _ClassVar[int]
    WAITING_FIELD_NUMBER: _ClassVar[int]
    HAS_MORE_FIELD_NUMBER: _ClassVar[int]
    closed: int
    waiting: int
    has_more: bool
    def __init__(self, closed: _Optional[int] = ..., waiting: _Optional[int] = ..., has_more: _Optional[bool] = ...) -> None: ...

class Period(_message.Message):
    __slots__ = ("id", "customer_id", "livemode", "period_start", "period_end", "cost_nano_usd", "billable_nano_usd", "request_count", "input_tokens", "output_tokens", "closed_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    LIVEMODE_FIELD_NUMBER: _ClassVar[int]
    PERIOD_START_FIELD_NUMBER: _ClassVar[int]
    PERIOD_END_FIELD_NUMBER: _ClassVar[int]
    COST_NANO_USD_FIELD_NUMBER: _ClassVar[int]
    BILLABLE_NANO_USD_FIELD_NUMBER: _ClassVar[int]
    REQUEST_COUNT_FIELD_NUMBER: _ClassVar[int]
    INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CLOSED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    customer_id: str
    livemode: bool
    period_start: int
    period_end: int
    cost_nano_usd: int
    billable_nano_usd: int
    request_count: int
    input_tokens: int
    output_tokens: int
    closed_at: int
    def __init__(self, id: _Optional[str] = ..., customer_id: _Optional[str] = ..., livemode: _Optional[bool] = ..., period_start: _Optional[int] = ..., period_end: _Optional[int] = ..., cost_nano_usd: _Optional[int] = ..., billable_nano_usd: _Optional[int] = ..., request_count: _Optional[int] = ..., input_tokens: _Optional[int] = ..., output_tokens: _Optional[int] = ..., closed_at: _Optional[int] = ...) -> None: ...

class ListPeriodsRequest(_message.Message):
    __slots__ = ("customer_id", "page")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    page: _common_pb2.PageRequest
    def __init__(self, customer_id: _Optional[str] = ..., page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class ListPeriodsResponse(_message.Message):
    __slots__ = ("periods", "has_more")
    PERIODS_FIELD_NUMBER: _ClassVar[int]
    HAS_MORE_FIELD_NUMBER: _ClassVar[int]
    periods: _containers.RepeatedCompositeFieldContainer[Period]
    has_more: bool
    def __init__(self, periods: _Optional[_Iterable[_Union[Period, _Mapping]]] = ..., has_more: _Optional[bool] = ...) -> None: ...

class StripeSettings(_message.Message):
    __slots__ = ("secret_key", "meter_event_name", "value", "updated", "livemode")
    SECRET_KEY_FIELD_NUMBER: _ClassVar[int]
    METER_EVENT_NAME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    UPDATED_FIELD_NUMBER: _ClassVar[int]
    LIVEMODE_FIELD_NUMBER: _ClassVar[int]
    secret_key: str
    meter_event_name: str
    value: str
    updated: int
    livemode: bool
    def __init__(self, secret_key: _Optional[str] = ..., meter_event_name: _Optional[str] = ..., value: _Optional[str] = ..., updated: _Optional[int] = ..., livemode: _Optional[bool] = ...) -> None: ...

class PutStripeSettingsRequest(_message.Message):
    __slots__ = ("settings",)
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    settings: StripeSettings
    def __init__(self, settings: _Optional[_Union[StripeSettings, _Mapping]] = ...) -> None: ...

class PutStripeSettingsResponse(_message.Message):
    __slots__ = ("settings",)
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    settings: StripeSettings
    def __init__(self, settings: _Optional[_Union[StripeSettings, _Mapping]] = ...) -> None: ...

class GetStripeSettingsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetStripeSettingsResponse(_message.Message):
    __slots__ = ("settings",)
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    settings: StripeSettings
    def __init__(self, settings: _Optional[_Union[StripeSettings, _Mapping]] = ...) -> None: ...

class PlanStripeSyncRequest(_message.Message):
    __slots__ = ("run_id", "after_customer_id", "limit")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    AFTER_CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    after_customer_id: str
    limit: int
    def __init__(self, run_id: _Optional[str] = ..., after_customer_id: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class StripePush(_message.Message):
    __slots__ = ("customer_id", "stripe_customer_id", "identifier", "value", "timestamp", "event_name", "secret_key", "account_id", "livemode")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    STRIPE_CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    IDENTIFIER_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    EVENT_NAME_FIELD_NUMBER: _ClassVar[int]
    SECRET_KEY_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    LIVEMODE_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    stripe_customer_id: str
    identifier: str
    value: int
    timestamp: int
    event_name: str
    secret_key: str
    account_id: str
    livemode: bool
    def __init__(self, customer_id: _Optional[str] = ..., stripe_customer_id: _Optional[str] = ..., identifier: _Optional[str] = ..., value: _Optional[int] = ..., timestamp: _Optional[int] = ..., event_name: _Optional[str] = ..., secret_key: _Optional[str] = ..., account_id: _Optional[str] = ..., livemode: _Optional[bool] = ...) -> None: ...

class PlanStripeSyncResponse(_message.Message):
    __slots__ = ("pushes", "last_customer_id", "has_more")
    PUSHES_FIELD_NUMBER: _ClassVar[int]
    LAST_CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    HAS_MORE_FIELD_NUMBER: _ClassVar[int]
    pushes: _containers.RepeatedCompositeFieldContainer[StripePush]
    last_customer_id: str
    has_more: bool
    def __init__(self, pushes: _Optional[_Iterable[_Union[StripePush, _Mapping]]] = ..., last_customer_id: _Optional[str] = ..., has_more: _Optional[bool] = ...) -> None: ...

class StripeOutcome(_message.Message):
    __slots__ = ("customer_id", "identifier", "outcome", "code", "message")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    IDENTIFIER_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    identifier: str
    outcome: str
    code: str
    message: str
    def __init__(self, customer_id: _Optional[str] = ..., identifier: _Optional[str] = ..., outcome: _Optional[str] = ..., code: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class CommitStripeSyncRequest(_message.Message):
    __slots__ = ("run_id", "outcomes", "finish")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    FINISH_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    outcomes: _containers.RepeatedCompositeFieldContainer[StripeOutcome]
    finish: bool
    def __init__(self, run_id: _Optional[str] = ..., outcomes: _Optional[_Iterable[_Union[StripeOutcome, _Mapping]]] = ..., finish: _Optional[bool] = ...) -> None: ...

class CommitStripeSyncResponse(_message.Message):
    __slots__ = ("committed",)
    COMMITTED_FIELD_NUMBER: _ClassVar[int]
    committed: int
    def __init__(self, committed: _Optional[int] = ...) -> None: ...

class StripeSync(_message.Message):
    __slots__ = ("id", "run_id", "status", "events_pushed", "units_pushed", "duplicates", "failed", "errors_json", "started", "finished", "livemode")
    ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    EVENTS_PUSHED_FIELD_NUMBER: _ClassVar[int]
    UNITS_PUSHED_FIELD_NUMBER: _ClassVar[int]
    DUPLICATES_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    ERRORS_JSON_FIELD_NUMBER: _ClassVar[int]
    STARTED_FIELD_NUMBER: _ClassVar[int]
    FINISHED_FIELD_NUMBER: _ClassVar[int]
    LIVEMODE_FIELD_NUMBER: _ClassVar[int]
    id: str
    run_id: str
    status: str
    events_pushed: int
    units_pushed: int
    duplicates: int
    failed: int
    errors_json: str
    started: int
    finished: int
    livemode: bool
    def __init__(self, id: _Optional[str] = ..., run_id: _Optional[str] = ..., status: _Optional[str] = ..., events_pushed: _Optional[int] = ..., units_pushed: _Optional[int] = ..., duplicates: _Optional[int] = ..., failed: _Optional[int] = ..., errors_json: _Optional[str] = ..., started: _Optional[int] = ..., finished: _Optional[int] = ..., livemode: _Optional[bool] = ...) -> None: ...

class ListStripeSyncsRequest(_message.Message):
    __slots__ = ("page",)
    PAGE_FIELD_NUMBER: _ClassVar[int]
    page: _common_pb2.PageRequest
    def __init__(self, page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class ListStripeSyncsResponse(_message.Message):
    __slots__ = ("syncs", "has_more", "lag_seconds", "failing_customers")
    SYNCS_FIELD_NUMBER: _ClassVar[int]
    HAS_MORE_FIELD_NUMBER: _ClassVar[int]
    LAG_SECONDS_FIELD_NUMBER: _ClassVar[int]
    FAILING_CUSTOMERS_FIELD_NUMBER: _ClassVar[int]
    syncs: _containers.RepeatedCompositeFieldContainer[StripeSync]
    has_more: bool
    lag_seconds: int
    failing_customers: int
    def __init__(self, syncs: _Optional[_Iterable[_Union[StripeSync, _Mapping]]] = ..., has_more: _Optional[bool] = ..., lag_seconds: _Optional[int] = ..., failing_customers: _Optional[int] = ...) -> None: ...
