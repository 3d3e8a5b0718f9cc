from ringside.core.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class WebhookEndpoint(_message.Message):
    __slots__ = ("id", "livemode", "url", "events", "description", "enabled", "secret", "previous_secret_expires_at", "created")
    ID_FIELD_NUMBER: _ClassVar[int]
    LIVEMODE_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_SECRET_EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    id: str
    livemode: bool
    url: str
    events: _containers.RepeatedScalarFieldContainer[str]
    description: str
    enabled: bool
    secret: str
    previous_secret_expires_at: int
    created: int
    def __init__(self, id: _Optional[str] = ..., livemode: _Optional[bool] = ..., url: _Optional[str] = ..., events: _Optional[_Iterable[str]] = ..., description: _Optional[str] = ..., enabled: _Optional[bool] = ..., secret: _Optional[str] = ..., previous_secret_expires_at: _Optional[int] = ..., created: _Optional[int] = ...) -> None: ...

class WebhookEndpointFields(_message.Message):
    __slots__ = ("url", "events", "description", "enabled", "fields")
    URL_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    url: str
    events: _containers.RepeatedScalarFieldContainer[str]
    description: str
    enabled: bool
    fields: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, url: _Optional[str] = ..., events: _Optional[_Iterable[str]] = ..., description: _Optional[str] = ..., enabled: _Optional[bool] = ..., fields: _Optional[_Iterable[str]] = ...) -> None: ...

class DeliveryAttempt(_message.Message):
    __slots__ = ("id", "endpoint_id", "event_id", "event_type", "attempt", "created", "succeeded", "http_status", "latency_ms", "error", "next_retry_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    ENDPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    SUCCEEDED_FIELD_NUMBER: _ClassVar[int]
    HTTP_STATUS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    NEXT_RETRY_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    endpoint_id: str
    event_id: str
    event_type: str
    attempt: int
    created: int
    succeeded: bool
    http_status: int
    latency_ms: int
    error: str
    next_retry_at: int
    def __init__(self, id: _Optional[str] = ..., endpoint_id: _Optional[str] = ..., event_id: _Optional[str] = ..., event_type: _Optional[str] = ..., attempt: _Optional[int] = ..., created: _Optional[int] = ..., succeeded: _Optional[bool] = ..., http_status: _Optional[int] = ..., latency_ms: _Optional[int] = ..., error: _Optional[str] = ..., next_retry_at: _Optional[int] = ...) -> None: ...

class CreateWebhookEndpointRequest(_message.Message):
    __slots__ = ("endpoint",)
    ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    endpoint: WebhookEndpointFields
    def __init__(self, endpoint: _Optional[_Union[WebhookEndpointFields, _Mapping]] = ...) -> None: ...

class CreateWebhookEndpointResponse(_message.Message):
    __slots__ = ("endpoint",)
    ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    endpoint: WebhookEndpoint
    def __init__(self, endpoint: _Optional[_Union[WebhookEndpoint, _Mapping]] = ...) -> None: ...

class GetWebhookEndpointRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetWebhookEndpointResponse(_message.Message):
    __slots__ = ("endpoint",)
    ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    endpoint: WebhookEndpoint
    def __init__(self, endpoint: _Optional[_Union[WebhookEndpoint, _Mapping]] = ...) -> None: ...

class ListWebhookEndpointsRequest(_message.Message):
    __slots__ = ("page",)
    PAGE_FIELD_NUMBER: _ClassVar[int]
    page: _common_pb2.PageRequest
    def __init__(self, page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class ListWebhookEndpointsResponse(_message.Message):
    __slots__ = ("endpoints", "has_more")
    ENDPOINTS_FIELD_NUMBER: _ClassVar[int]
    HAS_MORE_FIELD_NUMBER: _ClassVar[int]
    endpoints: _containers.RepeatedCompositeFieldContainer[WebhookEndpoint]
    has_more: bool
    def __init__(self, endpoints: _Optional[_Iterable[_Union[WebhookEndpoint, _Mapping]]] = ..., has_more: _Optional[bool] = ...) -> None: ...

class UpdateWebhookEndpointRequest(_message.Message):
    __slots__ = ("id", "endpoint")
    ID_FIELD_NUMBER: _ClassVar[int]
    ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    id: str
    endpoint: WebhookEndpointFields
    def __init__(self, id: _Optional[str] = ..., endpoint: _Optional[_Union[WebhookEndpointFields, _Mapping]] = ...) -> None: ...

class UpdateWebhookEndpointResponse(_message.Message):
    __slots__ = ("endpoint",)
    ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    endpoint: WebhookEndpoint
    def __init__(self, endpoint: _Optional[_Union[WebhookEndpoint, _Mapping]] = ...) -> None: ...

class DeleteWebhookEndpointRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class DeleteWebhookEndpointResponse(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class RotateWebhookSecretRequest(_message.Message):
    __slots__ = ("id", "overlap_seconds")
    ID_FIELD_NUMBER: _ClassVar[int]
    OVERLAP_SECONDS_FIELD_NUMBER: _ClassVar[int]
    id: str
    overlap_seconds: int
    def __init__(self, id: _Optional[str] = ..., overlap_seconds: _Optional[int] = ...) -> None: ...

class RotateWebhookSecretResponse(_message.Message):
    __slots__ = ("endpoint",)
    ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    endpoint: WebhookEndpoint
    def __init__(self, endpoint: _Optional[_Union[WebhookEndpoint, _Mapping]] = ...) -> None: ...

class ListWebhookDeliveriesRequest(_message.Message):
    __slots__ = ("id", "page")
    ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    id: str
    page: _common_pb2.PageRequest
    def __init__(self, id: _Optional[str] = ..., page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class ListWebhookDeliveriesResponse(_message.Message):
    __slots__ = ("attempts", "has_more")
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    HAS_MORE_FIELD_NUMBER: _ClassVar[int]
    attempts: _containers.RepeatedCompositeFieldContainer[DeliveryAttempt]
    has_more: bool
    def __init__(self, attempts: _Optional[_Iterable[_Union[DeliveryAttempt, _Mapping]]] = ..., has_more: _Optional[bool] = ...) -> None: ...

class RedeliverWebhookRequest(_message.Message):
    __slots__ = ("id", "delivery_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    delivery_id: str
    def __init__(self, id: _Optional[str] = ..., delivery_id: _Optional[str] = ...) -> None: ...

class RedeliverWebhookResponse(_message.Message):
    __slots__ = ("outbox_id", "event_id")
    OUTBOX_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    outbox_id: str
    event_id: str
    def __init__(self, outbox_id: _Optional[str] = ..., event_id: _Optional[str] = ...) -> None: ...

class ClaimOutboxRequest(_message.Message):
    __slots__ = ("limit", "wait_ms")
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    WAIT_MS_FIELD_NUMBER: _ClassVar[int]
    limit: int
    wait_ms: int
    def __init__(self, limit: _Optional[int] = ..., wait_ms: _Optional[int] = ...) -> None: ...

class OutboxItem(_message.Message):
    __slots__ = ("outbox_id", "event_id", "event_type", "customer_id", "endpoint_ids", "redelivery")
    OUTBOX_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    ENDPOINT_IDS_FIELD_NUMBER: _ClassVar[int]
    REDELIVERY_FIELD_NUMBER: _ClassVar[int]
    outbox_id: str
    event_id: str
    event_type: str
    customer_id: str
    endpoint_ids: _containers.RepeatedScalarFieldContainer[str]
    redelivery: bool
    def __init__(self, outbox_id: _Optional[str] = ..., event_id: _Optional[str] = ..., event_type: _Optional[str] = ..., customer_id: _Optional[str] = ..., endpoint_ids: _Optional[_Iterable[str]] = ..., redelivery: _Optional[bool] = ...) -> None: ...

class ClaimOutboxResponse(_message.Message):
    __slots__ = ("items",)
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[OutboxItem]
    def __init__(self, items: _Optional[_Iterable[_Union[OutboxItem, _Mapping]]] = ...) -> None: ...

class MarkOutboxRelayedRequest(_message.Message):
    __slots__ = ("outbox_ids",)
    OUTBOX_IDS_FIELD_NUMBER: _ClassVar[int]
    outbox_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, outbox_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class MarkOutboxRelayedResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetDeliveryTargetRequest(_message.Message):
    __slots__ = ("event_id", "endpoint_id")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    ENDPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    endpoint_id: str
    def __init__(self, event_id: _Optional[str] = ..., endpoint_id: _Optional[str] = ...) -> None: ...

class GetDeliveryTargetResponse(_message.Message):
    __slots__ = ("url", "secrets", "body", "event_type", "active")
    URL_FIELD_NUMBER: _ClassVar[int]
    SECRETS_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    url: str
    secrets: _containers.RepeatedScalarFieldContainer[str]
    body: str
    event_type: str
    active: bool
    def __init__(self, url: _Optional[str] = ..., secrets: _Optional[_Iterable[str]] = ..., body: _Optional[str] = ..., event_type: _Optional[str] = ..., active: _Optional[bool] = ...) -> None: ...

class RecordDeliveryAttemptRequest(_message.Message):
    __slots__ = ("attempt",)
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    attempt: DeliveryAttempt
    def __init__(self, attempt: _Optional[_Union[DeliveryAttempt, _Mapping]] = ...) -> None: ...

class RecordDeliveryAttemptResponse(_message.Message):
    __slots__ = ("endpoint_disabled",)
    ENDPOINT_DISABLED_FIELD_NUMBER: _ClassVar[int]
    endpoint_disabled: bool
    def __init__(self, endpoint_disabled: _Optional[bool] = ...) -> None: ...

class EventRecord(_message.Message):
    __slots__ = ("id", "body_json")
    ID_FIELD_NUMBER: _ClassVar[int]
    BODY_JSON_FIELD_NUMBER: _ClassVar[int]
    id: str
    body_json: str
    def __init__(self, id: _Optional[str] = ..., body_json: _Optional[str] = ...) -> None: ...

class ListEventsRequest(_message.Message):
    __slots__ = ("type", "created_gte", "created_lte", "page")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    CREATED_GTE_FIELD_NUMBER: _ClassVar[int]
    CREATED_LTE_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    type: str
    created_gte: int
    created_lte: int
    page: _common_pb2.PageRequest
    def __init__(self, type: _Optional[str] = ..., created_gte: _Optional[int] = ..., created_lte: _Optional[int] = ..., page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class ListEventsResponse(_message.Message):
    __slots__ = ("events", "has_more")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    HAS_MORE_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[EventRecord]
    has_more: bool
    def __init__(self, events: _Optional[_Iterable[_Union[EventRecord, _Mapping]]] = ..., has_more: _Optional[bool] = ...) -> None: ...

class GetEventRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetEventResponse(_message.Message):
    __slots__ = ("event",)
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: EventRecord
    def __init__(self, event: _Optional[_Union[EventRecord, _Mapping]] = ...) -> None: ...
