"""/v1/webhooks: endpoints, secret rotation, the delivery log and redelivery (scope api:webhooks)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from edge_http.context import EDGE
from edge_http.handlers.common import authorization, json_response, list_body, page_request
from edge_http.openai.jsonio import parse_object
from ringside.core.v1 import webhooks_pb2
from ringside_server.errors import RingsideError

MAX_ID = 64
MAX_EVENT_NAMES = 100


def render(e: webhooks_pb2.WebhookEndpoint) -> dict[str, Any]:
    rendered: dict[str, Any] = {
        "id": e.id,
        "object": "webhook_endpoint",
        "livemode": e.livemode,
        "url": e.url,
        "events": list(e.events),
        "description": e.description or None,
        "status": "enabled" if e.enabled else "disabled",
        "previous_secret_expires_at": e.previous_secret_expires_at or None,
        "created": e.created,
    }
    if e.secret:
        rendered["secret"] = e.secret
    return rendered


def render_attempt(a: webhooks_pb2.DeliveryAttempt) -> dict[str, Any]:
    return {
        "id": a.id,
        "object": "webhook_delivery_attempt",
        "endpoint_id": a.endpoint_id,
        "event_id": a.event_id,
        "event_type": a.event_type,
        "attempt": a.attempt,
        "created": a.created,
        "status": "succeeded" if a.succeeded else "failed",
        "http_status": a.http_status or None,
        "latency_ms": a.latency_ms,
        "error": a.error or None,
        "next_retry_at": a.next_retry_at or None,
    }


def endpoint_fields(body: dict[str, Any]) -> webhooks_pb2.WebhookEndpointFields:
    """The JSON fields present → WebhookEndpointFields (`fields` names them, for updates)."""
    message = webhooks_pb2.WebhookEndpointFields()
    for name in ("url", "description"):
        if name in body:
            value = body[name]
            if value is None and name == "description":
                value = ""
            if not isinstance(value, str):
                raise RingsideError("invalid_request", f"{name} must be a string.", name)
            setattr(message, name, value)
            message.fields.append(name)
    if "events" in body:
        events = body["events"]
        if not isinstance(events, list) or len(events) > MAX_EVENT_NAMES or not all(isinstance(e, str) for e in events):
            raise RingsideError("invalid_request", "events must be a list of event type names.", "events")
        message.events.extend(events)
        message.fields.append("events")
    if "disabled" in body:
        if not isinstance(body["disabled"], bool):
            raise RingsideError("invalid_request", "disabled must be a boolean.", "disabled")
        message.enabled = not body["disabled"]
        message.fields.append("enabled")
    return message


def _id(request: web.Request) -> str:
    return request.match_info["id"][:MAX_ID]


async def create_endpoint(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    header = authorization(request)
    body = parse_object(await request.read())
    for name in ("url", "events"):
        if name not in body:
            raise RingsideError("invalid_request", f"Missing required parameter: {name}.", name)
    fields = endpoint_fields(body)
    result = await edge.core.as_caller(
        edge.core.webhooks.CreateWebhookEndpoint,
        webhooks_pb2.CreateWebhookEndpointRequest(endpoint=fields),
        header,
    )
    return json_response(render(result.endpoint), 201)


async def list_endpoints(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    result = await edge.core.as_caller(
        edge.core.webhooks.ListWebhookEndpoints,
        webhooks_pb2.ListWebhookEndpointsRequest(page=page_request(request)),
        authorization(request),
    )
    return web.Response(
        body=list_body(request, [render(e) for e in result.endpoints], result.has_more),
        content_type="application/json",
    )


async def get_endpoint(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    result = await edge.core.as_caller(
        edge.core.webhooks.GetWebhookEndpoint,
        webhooks_pb2.GetWebhookEndpointRequest(id=_id(request)),
        authorization(request),
    )
    return json_response(render(result.endpoint))


async def update_endpoint(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    header = authorization(request)
    fields = endpoint_fields(parse_object(await request.read()))
    result = await edge.core.as_caller(
        edge.core.webhooks.UpdateWebhookEndpoint,
        webhooks_pb2.UpdateWebhookEndpointRequest(id=_id(request), endpoint=fields),
        header,
    )
    return json_response(render(result.endpoint))


async def delete_endpoint(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    result = await edge.core.as_caller(
        edge.core.webhooks.DeleteWebhookEndpoint,
        webhooks_pb2.DeleteWebhookEndpointRequest(id=_id(request)),
        authorization(request),
    )
    return json_response({"id": result.id, "object": "webhook_endpoint", "deleted": True})


async def rotate_secret(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    header = authorization(request)
    body = parse_object(await request.read() or b"{}")
    message = webhooks_pb2.RotateWebhookSecretRequest(id=_id(request))
    overlap = body.get("overlap_seconds")
    if overlap is not None:
        if isinstance(overlap, bool) or not isinstance(overlap, int) or not 0 <= overlap <= 10**9:
            raise RingsideError("invalid_request", "overlap_seconds must be an integer.", "overlap_seconds")
        message.overlap_seconds = overlap
    result = await edge.core.as_caller(edge.core.webhooks.RotateWebhookSecret, message, header)
    return json_response(render(result.endpoint))


async def list_deliveries(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    result = await edge.core.as_caller(
        edge.core.webhooks.ListWebhookDeliveries,
        webhooks_pb2.ListWebhookDeliveriesRequest(id=_id(request), page=page_request(request)),
        authorization(request),
    )
    return web.Response(
        body=list_body(request, [render_attempt(a) for a in result.attempts], result.has_more),
        content_type="application/json",
    )


async def redeliver(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    endpoint_id = _id(request)
    result = await edge.core.as_caller(
        edge.core.webhooks.RedeliverWebhook,
        webhooks_pb2.RedeliverWebhookRequest(id=endpoint_id, delivery_id=request.match_info["delivery_id"][:MAX_ID]),
        authorization(request),
    )
    payload = {"id": result.outbox_id, "object": "webhook_redelivery", "event_id": result.event_id}
    return json_response({**payload, "endpoint_id": endpoint_id})  # API.md "Creates": a redeliver answers 200
