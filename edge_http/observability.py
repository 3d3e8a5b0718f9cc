"""The edge's request observation: one metrics update and one log line per request (refusals too),
and GET /metrics."""

from __future__ import annotations

import hmac
import logging
import time
from typing import Any

import orjson
from aiohttp import web

from edge_http.context import EDGE
from edge_http.middlewares import REQUEST_ID, Handler
from ringside.core.v1 import requests_pb2
from ringside_server.answering import Answering
from ringside_server.errors import STATUS_BY_CODE, RingsideError
from ringside_server.observability import tracing
from ringside_server.observability.calls import CURRENT_CALL, CallRecord
from ringside_server.observability.metrics import CONTENT_TYPE_LATEST, MULTIPROC_DIR_VARIABLE, EdgeMetrics, exposition
from ringside_server.request_log import LISTED_REFUSALS

log = logging.getLogger("ringside.requests")
METRICS = web.AppKey("metrics", EdgeMetrics)
MAX_ERROR_BODY_BYTES = 64 * 1024  # larger error bodies are a provider's own: their code is not read
UNMATCHED = "unmatched"  # any path no route serves: one label, whatever was asked


def observe(metrics: EdgeMetrics, answering: Answering) -> Any:
    """The outermost middleware: times the request, gives its metered call a `CallRecord`, then
    counts it and logs it once. While it runs, the request is in flight in `answering`."""

    @web.middleware
    async def observed(request: web.Request, handler: Handler) -> web.StreamResponse:
        record = CallRecord()
        reset = CURRENT_CALL.set(record)
        response: web.StreamResponse | None = None
        status = 500
        answering.started()
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exception:
            status = exception.status
            raise
        finally:
            CURRENT_CALL.reset(reset)
            _finished(metrics, request, response, status, record)
            answering.ended()

    return observed


def _finished(
    metrics: EdgeMetrics, request: web.Request, response: web.StreamResponse | None, status: int, record: CallRecord
) -> None:
    elapsed_s = time.perf_counter() - record.started
    resource = request.match_info.route.resource
    route = resource.canonical if resource is not None else UNMATCHED
    code = error_code(response) if status >= 400 else ""
    metrics.child(metrics.requests, route, request.method, str(status), code).inc()
    metrics.child(metrics.duration, route).observe(elapsed_s)
    if record.metered:
        metrics.child(metrics.added, route).observe(max(0.0, elapsed_s - record.upstream_s))
        first_byte_s = record.first_byte_s if record.first_byte_s is not None else elapsed_s
        metrics.child(metrics.first_byte, route).observe(first_byte_s)
    # The answer names its call; a call cut with no answer (at shutdown) by the id it was admitted
    # under, so its request-log entry and its usage record stay one row of /v1/requests.
    answered_id = response.headers.get("x-request-id") if response is not None else None
    request_id = answered_id or record.request_id or request.get(REQUEST_ID)
    tracing.current_span().set_attribute(tracing.REQUEST_ID, request_id or "")  # the request's span
    if record.asked and (record.metered or code in LISTED_REFUSALS):
        _log_request(request, record, route, status, code, request_id or "", elapsed_s)
    if not log.isEnabledFor(logging.INFO):
        return
    fields: dict[str, Any] = {
        "request_id": request_id,
        "method": request.method,
        "route": route,
        "status": status,
        "error_code": code or None,
        "latency_ms": round(elapsed_s * 1000, 3),
    }
    if record.metered:
        fields.update(
            customer_id=record.customer_id or None,
            model=record.model,
            input_tokens=record.input_tokens,
            output_tokens=record.output_tokens,
            cost_nano_usd=record.cost_nano_usd,
            billable_nano_usd=record.billable_nano_usd,
            upstream_ms=round(record.upstream_s * 1000, 3),
        )
    log.info("%s %s %d", request.method, route, status, extra={"fields": fields})


def _log_request(
    request: web.Request, record: CallRecord, route: str, status: int, code: str, request_id: str, elapsed_s: float
) -> None:
    """One entry of the request log (GET /v1/requests), sent to the core off the request path."""
    recorder = request.app[EDGE].request_log
    if recorder is None:
        return
    api_key, client_token, customer_ref, user = record.caller
    now = time.time()
    recorder.add(
        requests_pb2.RequestEntry(
            request_id=request_id[:64],
            api_key=api_key,
            client_token=client_token,
            customer_ref=customer_ref,
            user=user,
            customer_id=record.customer_id,
            route=route[:100],
            model=record.asked,
            resolved_model=record.model if record.metered else "",
            status=status,
            error_code="" if status < 400 else code,
            latency_ms=round(elapsed_s * 1000),
            created=int(now),
            created_ms=int(now * 1000),
        ),
        record.lease_id,
    )


def error_code(response: web.StreamResponse | None) -> str:
    """The `error.code` of an error body (OpenAI's and Anthropic's shapes alike): one of Ringside's
    codes, `upstream` for a provider's own (passed-through) code, `none` when there is none."""
    body = getattr(response, "body", None)
    if not isinstance(body, bytes) or len(body) > MAX_ERROR_BODY_BYTES:
        return "none"
    try:
        error = orjson.loads(body).get("error")
        code = error.get("code") if isinstance(error, dict) else None
    except (orjson.JSONDecodeError, AttributeError):
        return "none"
    if not isinstance(code, str) or not code:
        return "none"
    return code if code in STATUS_BY_CODE else "upstream"


async def metrics(request: web.Request) -> web.Response:
    """GET /metrics: Prometheus text; with RINGSIDE_METRICS_TOKEN set, only for that bearer."""
    settings = request.app[EDGE].settings
    if settings.metrics_token is not None:
        given = request.headers.get("Authorization", "").encode()
        if not hmac.compare_digest(given, f"Bearer {settings.metrics_token}".encode()):
            raise RingsideError("invalid_api_key", "GET /metrics needs the metrics token as a Bearer token.")
    multiproc_dir = settings.environment.get(MULTIPROC_DIR_VARIABLE) or None
    body = exposition(request.app[METRICS].registry, multiproc_dir)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
