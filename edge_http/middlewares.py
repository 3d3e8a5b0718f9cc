"""Request ids and the one error renderer for every failure, including bodies that do not parse."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError

from edge_http.openai.errors import anthropic_route, error_response
from ringside_server.errors import RingsideError
from ringside_server.ids import new_request_id

log = logging.getLogger("ringside.edge")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
REQUEST_ID = "request_id"


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    request_id = new_request_id()
    request[REQUEST_ID] = request_id
    anthropic = anthropic_route(request.path)  # Anthropic's routes answer in Anthropic's shape
    try:
        _check_request(request)
        response = await handler(request)
    except RingsideError as error:
        return error_response(error, request_id, anthropic=anthropic)
    except web.HTTPRequestEntityTooLarge:
        bound = request.client_max_size
        too_large = RingsideError("payload_too_large", f"The request body is larger than this route's {bound} bytes.")
        return error_response(too_large, request_id, anthropic=anthropic)
    except web.HTTPNotFound:
        return error_response(
            RingsideError("not_found", f"Unknown route: {_printable(request.method)} {_printable(request.path)}."),
            request_id,
            anthropic=anthropic,
        )
    except web.HTTPMethodNotAllowed as refusal:
        message = f"{_printable(request.method)} is not allowed on {_printable(request.path)}."
        response = error_response(RingsideError("method_not_allowed", message), request_id, anthropic=anthropic)
        response.headers["Allow"] = ", ".join(sorted(refusal.allowed_methods))
        return response
    except web.HTTPException:
        raise
    except (ConnectionResetError, RequestPayloadError, HttpProcessingError) as error:
        # The body stopped (the client left, or its read timed out) or does not decode as its
        # Content-Encoding says: nothing of ours failed.
        message = "The request body could not be read (truncated, or not in its Content-Encoding)."
        log.info("request body unreadable on %s (%s)", request.method, type(error).__name__)
        return error_response(RingsideError("invalid_request", message), request_id, anthropic=anthropic)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(
            RingsideError("internal_error", "Ringside failed to handle this request."), request_id, anthropic=anthropic
        )
    if "x-request-id" not in response.headers and not response.prepared:
        response.headers["x-request-id"] = request_id
    return response


class BrokenBodyDrain(logging.Filter):
    """aiohttp drains what is left of a request body after its answer; a body that does not decode
    fails again there and aiohttp logs it with a traceback, though the client already had its 400
    (`errors` above). That record says nothing new: it is dropped, every other one kept."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, RequestPayloadError | HttpProcessingError)


def _check_request(request: web.Request) -> None:
    """Bytes that are not UTF-8 in the path, query or a header (aiohttp keeps them as surrogates)
    are a 400 here, before a handler passes them on to the core's protobuf strings, which refuse
    them (a 500 before); so is a NUL in the path or query."""
    path, query = request.path, request.query_string
    if "\x00" in path or "\x00" in query or "%00" in request.raw_path:
        # ids and list cursors reach the database as query parameters, which cannot hold U+0000
        raise RingsideError("invalid_request", "The path or query holds a NUL character.")
    try:
        path.encode()
        query.encode()
    except UnicodeEncodeError:
        raise RingsideError("invalid_request", "The path or query is not valid UTF-8.") from None
    for name, value in request.headers.items():
        if value.isascii():  # nearly every header, and a flag read (encoding it built a copy)
            continue
        try:
            value.encode()
        except UnicodeEncodeError:
            raise RingsideError("invalid_request", "A header is not valid UTF-8.", _printable(name)[:64]) from None


def _printable(text: str) -> str:
    """`text` safe to echo: bytes that did not decode are shown as '?', never repeated."""
    return text.encode("utf-8", "replace").decode()[:200]
