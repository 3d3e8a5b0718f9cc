from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetUsageRequest(_message.Message):
    __slots__ = ("customer_ref", "since", "until", "group_by", "limit", "starting_after", "order_by", "order")
    CUSTOMER_REF_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    GROUP_BY_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    STARTING_AFTER_FIELD_NUMBER: _ClassVar[int]
    ORDER_BY_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    customer_ref: str
    since: int
    until: int
    group_by: str
    limit: int
    starting_after: str
    order_by: str
    order: str
    def __init__(self, customer_ref: _Optional[str] = ..., since: _Optional[int] = ..., until: _Optional[int] = ..., group_by: _Optional[str] = ..., limit: _Optional[int] = ..., starting_after: _Optional[str] = ..., order_by: _Optional[str] = ..., order: _Optional[str] = ...) -> None: ...

class UsageTotals(_message.Message):
    __slots__ = ("cost_nano_usd", "billable_nano_usd", "request_count", "input_tokens", "output_tokens")
    COST_NANO_USD_FIELD_NUMBER: _ClassVar[int]
    BILLABLE_NANO_USD_FIELD_NUMBER: _ClassVar[int]
    REQUEST_COUNT_FIELD_NUMBER: _ClassVar[int]
    INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    cost_nano_usd: int
    billable_nano_usd: int
    request_count: int
    input_tokens: int
    output_tokens: int
    def __init__(self, cost_nano_usd: _Optional[int] = ..., billable_nano_usd: _Optional[int] = ..., request_count: _Optional[int] = ..., input_tokens: _Optional[int] = ..., output_tokens: _Optional[int] = ...) -> None: ...

class UsageGroup(_message.Message):
    __slots__ = ("key", "totals")
    KEY_FIELD_NUMBER: _ClassVar[int]
    TOTALS_FIELD_NUMBER: _ClassVar[int]
    key: str
    totals: UsageTotals
    def __init__(self, key: _Optional[str] = ..., totals: _Optional[_Union[UsageTotals, _Mapping]] = ...) -> None: ...

class GetUsageResponse(_message.Message):
    __slots__ = ("totals", "groups", "has_more", "since", "until")
    TOTALS_FIELD_NUMBER: _ClassVar[int]
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    HAS_MORE_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    totals: UsageTotals
    groups: _containers.RepeatedCompositeFieldContainer[UsageGroup]
    has_more: bool
    since: int
    until: int
    def __init__(self, totals: _Optional[_Union[UsageTotals, _Mapping]] = ..., groups: _Optional[_Iterable[_Union[UsageGroup, _Mapping]]] = ..., has_more: _Optional[bool] = ..., since: _Optional[int] = ..., until: _Optional[int] = ...) -> None: ...
