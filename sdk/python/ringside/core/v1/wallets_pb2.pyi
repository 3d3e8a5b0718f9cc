from ringside.core.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class WalletTransaction(_message.Message):
    __slots__ = ("id", "type", "amount_nano_usd", "balance_after_nano_usd", "request_id", "description", "created")
    ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_NANO_USD_FIELD_NUMBER: _ClassVar[int]
    BALANCE_AFTER_NANO_USD_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    id: str
    type: str
    amount_nano_usd: int
    balance_after_nano_usd: int
    request_id: str
    description: str
    created: int
    def __init__(self, id: _Optional[str] = ..., type: _Optional[str] = ..., amount_nano_usd: _Optional[int] = ..., balance_after_nano_usd: _Optional[int] = ..., request_id: _Optional[str] = ..., description: _Optional[str] = ..., created: _Optional[int] = ...) -> None: ...

class TopUpRequest(_message.Message):
    __slots__ = ("customer_id", "amount_nano_usd", "description", "transaction_id")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_NANO_USD_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    amount_nano_usd: int
    description: str
    transaction_id: str
    def __init__(self, customer_id: _Optional[str] = ..., amount_nano_usd: _Optional[int] = ..., description: _Optional[str] = ..., transaction_id: _Optional[str] = ...) -> None: ...

class AdjustRequest(_message.Message):
    __slots__ = ("customer_id", "amount_nano_usd", "reason", "transaction_id")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_NANO_USD_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    amount_nano_usd: int
    reason: str
    transaction_id: str
    def __init__(self, customer_id: _Optional[str] = ..., amount_nano_usd: _Optional[int] = ..., reason: _Optional[str] = ..., transaction_id: _Optional[str] = ...) -> None: ...

class RefundRequest(_message.Message):
    __slots__ = ("customer_id", "transaction_id", "amount_nano_usd", "refund_id")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_NANO_USD_FIELD_NUMBER: _ClassVar[int]
    REFUND_ID_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    transaction_id: str
    amount_nano_usd: int
    refund_id: str
    def __init__(self, customer_id: _Optional[str] = ..., transaction_id: _Optional[str] = ..., amount_nano_usd: _Optional[int] = ..., refund_id: _Optional[str] = ...) -> None: ...

class WalletMovementResponse(_message.Message):
    __slots__ = ("transaction", "balance_nano_usd")
    TRANSACTION_FIELD_NUMBER: _ClassVar[int]
    BALANCE_NANO_USD_FIELD_NUMBER: _ClassVar[int]
    transaction: WalletTransaction
    balance_nano_usd: int
    def __init__(self, transaction: _Optional[_Union[WalletTransaction, _Mapping]] = ..., balance_nano_usd: _Optional[int] = ...) -> None: ...

class GetWalletRequest(_message.Message):
    __slots__ = ("customer_id", "page")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    page: _common_pb2.PageRequest
    def __init__(self, customer_id: _Optional[str] = ..., page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class GetWalletResponse(_message.Message):
    __slots__ = ("enabled", "balance_nano_usd", "held_nano_usd", "low_threshold_nano_usd", "transactions", "has_more")
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    BALANCE_NANO_USD_FIELD_NUMBER: _ClassVar[int]
    HELD_NANO_USD_FIELD_NUMBER: _ClassVar[int]
    LOW_THRESHOLD_NANO_USD_FIELD_NUMBER: _ClassVar[int]
    TRANSACTIONS_FIELD_NUMBER: _ClassVar[int]
    HAS_MORE_FIELD_NUMBER: _ClassVar[int]
    enabled: bool
    balance_nano_usd: int
    held_nano_usd: int
    low_threshold_nano_usd: int
    transactions: _containers.RepeatedCompositeFieldContainer[WalletTransaction]
    has_more: bool
    def __init__(self, enabled: _Optional[bool] = ..., balance_nano_usd: _Optional[int] = ..., held_nano_usd: _Optional[int] = ..., low_threshold_nano_usd: _Optional[int] = ..., transactions: _Optional[_Iterable[_Union[WalletTransaction, _Mapping]]] = ..., has_more: _Optional[bool] = ...) -> None: ...
