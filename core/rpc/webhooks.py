"""WebhooksService: endpoints for accounts (api:webhooks), the outbox and attempts for the worker."""

from __future__ import annotations

from core.domain.webhooks import DeliveryAttempt, EndpointInput, Event, EventQuery, WebhookEndpoint
from core.rpc.base import MAX_PROTO_STRING, Base, Context, rpc
from core.services import events, outbox, webhooks
from ringside.core.v1 import webhooks_pb2, webhooks_pb2_grpc
from ringside_server.errors import RingsideError

FIELDS = ("url", "events", "description", "enabled")
MAX_EVENT_NAMES = 100


def endpoint_to(endpoint: WebhookEndpoint, with_secret: bool = False) -> webhooks_pb2.WebhookEndpoint:
    return webhooks_pb2.WebhookEndpoint(
        id=endpoint.id,
        livemode=endpoint.livemode,
        url=endpoint.url,
        events=endpoint.events,
        description=endpoint.description,
        enabled=endpoint.enabled,
        secret=endpoint.secret if with_secret else "",
        previous_secret_expires_at=endpoint.previous_secret_expires_at if endpoint.previous_secret else 0,
        created=endpoint.created,
    )


def event_to(event: Event) -> webhooks_pb2.EventRecord:
    return webhooks_pb2.EventRecord(id=event.id, body_json=event.body)


def attempt_to(a: DeliveryAttempt) -> webhooks_pb2.DeliveryAttempt:
    return webhooks_pb2.DeliveryAttempt(
        id=a.id,
        endpoint_id=a.endpoint_id,
        event_id=a.event_id,
        event_type=a.event_type,
        attempt=a.attempt,
        created=a.created,
        succeeded=a.succeeded,
        http_status=a.http_status,
        latency_ms=a.latency_ms,
        error=a.error,
        next_retry_at=a.next_retry_at,
    )


def _fields(message: webhooks_pb2.WebhookEndpointFields, update: bool) -> EndpointInput:
    unknown = set(message.fields) - set(FIELDS)
    if unknown:
        raise RingsideError("invalid_request", f"Unknown webhook endpoint fields: {sorted(unknown)[:5]}.", "fields")
    if len(message.events) > MAX_EVENT_NAMES:
        raise RingsideError("invalid_request", "Too many event types.", "events")
    return EndpointInput(
        url=message.url[:MAX_PROTO_STRING],
        events=list(message.events),
        description=message.description[:MAX_PROTO_STRING],
        enabled=message.enabled if update else True,
        present=frozenset(message.fields) if update else frozenset(FIELDS),
    )


class WebhooksServicer(Base, webhooks_pb2_grpc.WebhooksServiceServicer):
    @rpc
    async def CreateWebhookEndpoint(
        self, request: webhooks_pb2.CreateWebhookEndpointRequest, context: Context
    ) -> webhooks_pb2.CreateWebhookEndpointResponse:
        endpoint = await webhooks.create(
            self.core, self.auth.principal(context), _fields(request.endpoint, update=False)
        )
        return webhooks_pb2.CreateWebhookEndpointResponse(endpoint=endpoint_to(endpoint, with_secret=True))

    @rpc
    async def GetWebhookEndpoint(
        self, request: webhooks_pb2.GetWebhookEndpointRequest, context: Context
    ) -> webhooks_pb2.GetWebhookEndpointResponse:
        endpoint = await webhooks.find(self.core, self.auth.principal(context), request.id)
        return webhooks_pb2.GetWebhookEndpointResponse(endpoint=endpoint_to(endpoint))

    @rpc
    async def ListWebhookEndpoints(
        self, request: webhooks_pb2.ListWebhookEndpointsRequest, context: Context
    ) -> webhooks_pb2.ListWebhookEndpointsResponse:
        items, has_more = await webhooks.list_endpoints(
            self.core,
            self.auth.principal(context),
            request.page.limit,
            request.page.starting_after[:200],
            request.page.ending_before[:200],
        )
        return webhooks_pb2.ListWebhookEndpointsResponse(endpoints=[endpoint_to(e) for e in items], has_more=has_more)

    @rpc
    async def UpdateWebhookEndpoint(
        self, request: webhooks_pb2.UpdateWebhookEndpointRequest, context: Context
    ) -> webhooks_pb2.UpdateWebhookEndpointResponse:
        endpoint = await webhooks.update(
            self.core, self.auth.principal(context), request.id, _fields(request.endpoint, update=True)
        )
        return webhooks_pb2.UpdateWebhookEndpointResponse(endpoint=endpoint_to(endpoint))

    @rpc
    async def DeleteWebhookEndpoint(
        self, request: webhooks_pb2.DeleteWebhookEndpointRequest, context: Context
    ) -> webhooks_pb2.DeleteWebhookEndpointResponse:
        endpoint = await webhooks.delete(self.core, self.auth.principal(context), request.id)
        return webhooks_pb2.DeleteWebhookEndpointResponse(id=endpoint.id)

    @rpc
    async def RotateWebhookSecret(
        self, request: webhooks_pb2.RotateWebhookSecretRequest, context: Context
    ) -> webhooks_pb2.RotateWebhookSecretResponse:
        overlap = request.overlap_seconds if request.HasField("overlap_seconds") else None
        endpoint = await webhooks.rotate_secret(self.core, self.auth.principal(context), request.id, overlap)
        return webhooks_pb2.RotateWebhookSecretResponse(endpoint=endpoint_to(endpoint, with_secret=True))

    @rpc
    async def ListWebhookDeliveries(
        self, request: webhooks_pb2.ListWebhookDeliveriesRequest, context: Context
    ) -> webhooks_pb2.ListWebhookDeliveriesResponse:
        items, has_more = await webhooks.deliveries(
            self.core,
            self.auth.principal(context),
            request.id,
            request.page.limit,
            request.page.starting_after,
            request.page.ending_before,
        )
        return webhooks_pb2.ListWebhookDeliveriesResponse(attempts=[attempt_to(a) for a in items], has_more=has_more)

    @rpc
    async def RedeliverWebhook(
        self, request: webhooks_pb2.RedeliverWebhookRequest, context: Context
    ) -> webhooks_pb2.RedeliverWebhookResponse:
        entry = await webhooks.redeliver(self.core, self.auth.principal(context), request.id, request.delivery_id)
        return webhooks_pb2.RedeliverWebhookResponse(outbox_id=entry.id, event_id=entry.event_id)

    @rpc
    async def ListEvents(
        self, request: webhooks_pb2.ListEventsRequest, context: Context
    ) -> webhooks_pb2.ListEventsResponse:
        query = EventQuery(
            request.type[:MAX_PROTO_STRING],
            request.created_gte,
            request.created_lte if request.HasField("created_lte") else None,
            request.page.limit,
            request.page.starting_after,
            request.page.ending_before,
        )
        found, has_more = await events.list_events(self.core, self.auth.principal(context), query)
        return webhooks_pb2.ListEventsResponse(events=[event_to(e) for e in found], has_more=has_more)

    @rpc
    async def GetEvent(self, request: webhooks_pb2.GetEventRequest, context: Context) -> webhooks_pb2.GetEventResponse:
        event = await events.get_event(self.core, self.auth.principal(context), request.id)
        return webhooks_pb2.GetEventResponse(event=event_to(event))

    @rpc
    async def ClaimOutbox(
        self, request: webhooks_pb2.ClaimOutboxRequest, context: Context
    ) -> webhooks_pb2.ClaimOutboxResponse:
        self.auth.internal(context)
        items = await outbox.claim(self.core, request.limit, request.wait_ms / 1000)
        return webhooks_pb2.ClaimOutboxResponse(
            items=[
                webhooks_pb2.OutboxItem(
                    outbox_id=i.outbox_id,
                    event_id=i.event_id,
                    event_type=i.event_type,
                    customer_id=i.customer_id,
                    endpoint_ids=i.endpoint_ids,
                    redelivery=i.redelivery,
                )
                for i in items
            ]
        )

    @rpc
    async def MarkOutboxRelayed(
        self, request: webhooks_pb2.MarkOutboxRelayedRequest, context: Context
    ) -> webhooks_pb2.MarkOutboxRelayedResponse:
        self.auth.internal(context)
        await outbox.mark_relayed(self.core, list(request.outbox_ids))
        return webhooks_pb2.MarkOutboxRelayedResponse()

    @rpc
    async def GetDeliveryTarget(
        self, request: webhooks_pb2.GetDeliveryTargetRequest, context: Context
    ) -> webhooks_pb2.GetDeliveryTargetResponse:
        self.auth.internal(context)
        found = await outbox.target(self.core, request.event_id, request.endpoint_id)
        return webhooks_pb2.GetDeliveryTargetResponse(
            url=found.url, secrets=found.secrets, body=found.body, event_type=found.event_type, active=found.active
        )

    @rpc
    async def RecordDeliveryAttempt(
        self, request: webhooks_pb2.RecordDeliveryAttemptRequest, context: Context
    ) -> webhooks_pb2.RecordDeliveryAttemptResponse:
        self.auth.internal(context)
        a = request.attempt
        disabled = await outbox.record_attempt(
            self.core,
            DeliveryAttempt(
                id="",
                endpoint_id=a.endpoint_id[:64],
                event_id=a.event_id[:64],
                event_type=a.event_type[:64],
                attempt=a.attempt,
                created=a.created,
                succeeded=a.succeeded,
                http_status=a.http_status,
                latency_ms=a.latency_ms,
                error=a.error,
                next_retry_at=a.next_retry_at,
            ),
        )
        return webhooks_pb2.RecordDeliveryAttemptResponse(endpoint_disabled=disabled)
