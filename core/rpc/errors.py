"""RingsideError → gRPC status, in one place. The code travels in trailing metadata so the edge
renders exactly the documented envelope."""

from __future__ import annotations

import grpc

from ringside_server.errors import RingsideError

CODE_KEY = "ringside-error-code"
PARAM_KEY = "ringside-error-param"

_GRPC_BY_HTTP = {
    400: grpc.StatusCode.INVALID_ARGUMENT,
    401: grpc.StatusCode.UNAUTHENTICATED,
    402: grpc.StatusCode.FAILED_PRECONDITION,
    403: grpc.StatusCode.PERMISSION_DENIED,
    404: grpc.StatusCode.NOT_FOUND,
    409: grpc.StatusCode.ABORTED,
    413: grpc.StatusCode.INVALID_ARGUMENT,
    429: grpc.StatusCode.RESOURCE_EXHAUSTED,
    503: grpc.StatusCode.UNAVAILABLE,
}


async def abort(context: grpc.aio.ServicerContext, error: RingsideError) -> None:
    context.set_trailing_metadata(((CODE_KEY, error.code), (PARAM_KEY, error.param or "")))
    await context.abort(_GRPC_BY_HTTP.get(error.status, grpc.StatusCode.INTERNAL), error.message)
