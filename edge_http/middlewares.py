"""Request ids and the one error renderer for every failure, including bodies that do not parse."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from edge_http.openai.errors import anthropic_route, error_response
from ringside_server.errors import RingsideError
from ringside_server.ids import new_id

log = logging.getLogger("ringside.edge")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
REQUEST_ID = "request_id"


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    request_id = new_id("req")
    request[REQUEST_ID] = request_id
    anthropic = anthropic_route(request.path)  # Anthropic's routes answer in Anthropic's shape
    try:
        response = await handler(request)
    except RingsideError as error:
        return error_response(error, request_id, anthropic=anthropic)
    except web.HTTPRequestEntityTooLarge:
        return error_response(
            RingsideError("payload_too_large", "The request body is larger than 32 MiB."),
            request_id,
            anthropic=anthropic,
        )
    except web.HTTPNotFound:
        return error_response(
            RingsideError("not_found", f"Unknown route: {request.method} {request.path}."),
            request_id,
            anthropic=anthropic,
        )
    except web.HTTPMethodNotAllowed:
        return error_response(
            RingsideError("invalid_request", f"{request.method} is not allowed on {request.path}."),
            request_id,
            anthropic=anthropic,
        )
    except web.HTTPException:
        raise
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(
            RingsideError("internal_error", "Ringside failed to handle this request."), request_id, anthropic=anthropic
        )
    if "x-request-id" not in response.headers and not response.prepared:
        response.headers["x-request-id"] = request_id
    return response
