from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class HeartbeatRequest(_message.Message):
    __slots__ = ("role", "instance")
    ROLE_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_FIELD_NUMBER: _ClassVar[int]
    role: str
    instance: str
    def __init__(self, role: _Optional[str] = ..., instance: _Optional[str] = ...) -> None: ...

class HeartbeatResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RoleStatus(_message.Message):
    __slots__ = ("role", "instance", "age_seconds")
    ROLE_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_FIELD_NUMBER: _ClassVar[int]
    AGE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    role: str
    instance: str
    age_seconds: float
    def __init__(self, role: _Optional[str] = ..., instance: _Optional[str] = ..., age_seconds: _Optional[float] = ...) -> None: ...

class GetStatusResponse(_message.Message):
    __slots__ = ("roles",)
    ROLES_FIELD_NUMBER: _ClassVar[int]
    roles: _containers.RepeatedCompositeFieldContainer[RoleStatus]
    def __init__(self, roles: _Optional[_Iterable[_Union[RoleStatus, _Mapping]]] = ...) -> None: ...

class VerifyLedgerRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class VerifyLedgerResponse(_message.Message):
    __slots__ = ("transfer_count", "imbalance_nano_usd", "overposted_holds", "multiply_resolved_holds", "usage_ledger_mismatches", "open_holds", "ok", "invalid_transfers", "memory_mismatches", "ledger_totals_mismatches")
    TRANSFER_COUNT_FIELD_NUMBER: _ClassVar[int]
    IMBALANCE_NANO_USD_FIELD_NUMBER: _ClassVar[int]
    OVERPOSTED_HOLDS_FIELD_NUMBER: _ClassVar[int]
    MULTIPLY_RESOLVED_HOLDS_FIELD_NUMBER: _ClassVar[int]
    USAGE_LEDGER_MISMATCHES_FIELD_NUMBER: _ClassVar[int]
    OPEN_HOLDS_FIELD_NUMBER: _ClassVar[int]
    OK_FIELD_NUMBER: _ClassVar[int]
    INVALID_TRANSFERS_FIELD_NUMBER: _ClassVar[int]
    MEMORY_MISMATCHES_FIELD_NUMBER: _ClassVar[int]
    LEDGER_TOTALS_MISMATCHES_FIELD_NUMBER: _ClassVar[int]
    transfer_count: int
    imbalance_nano_usd: int
    overposted_holds: int
    multiply_resolved_holds: int
    usage_ledger_mismatches: int
    open_holds: int
    ok: bool
    invalid_transfers: int
    memory_mismatches: int
    ledger_totals_mismatches: int
    def __init__(self, transfer_count: _Optional[int] = ..., imbalance_nano_usd: _Optional[int] = ..., overposted_holds: _Optional[int] = ..., multiply_resolved_holds: _Optional[int] = ..., usage_ledger_mismatches: _Optional[int] = ..., open_holds: _Optional[int] = ..., ok: _Optional[bool] = ..., invalid_transfers: _Optional[int] = ..., memory_mismatches: _Optional[int] = ..., ledger_totals_mismatches: _Optional[int] = ...) -> None: ...

class PurgeExpiredRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class PurgeExpiredResponse(_message.Message):
    __slots__ = ("events_before", "delivery_attempts_before", "outbox_before", "idempotency_keys_before", "responses_before", "requests_before")
    EVENTS_BEFORE_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_ATTEMPTS_BEFORE_FIELD_NUMBER: _ClassVar[int]
    OUTBOX_BEFORE_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEYS_BEFORE_FIELD_NUMBER: _ClassVar[int]
    RESPONSES_BEFORE_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_BEFORE_FIELD_NUMBER: _ClassVar[int]
    events_before: int
    delivery_attempts_before: int
    outbox_before: int
    idempotency_keys_before: int
    responses_before: int
    requests_before: int
    def __init__(self, events_before: _Optional[int] = ..., delivery_attempts_before: _Optional[int] = ..., outbox_before: _Optional[int] = ..., idempotency_keys_before: _Optional[int] = ..., responses_before: _Optional[int] = ..., requests_before: _Optional[int] = ...) -> None: ...
