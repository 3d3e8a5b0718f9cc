"""RingsideError → gRPC status, in one place. The code travels in trailing metadata so the edge
renders exactly the documented envelope."""

from __future__ import annotations

import grpc

from core.services.ownership import NOT_OWNER_ACCOUNT_KEY, NOT_OWNER_PARTITION_KEY, OWNER_ADDRESS_KEY, NotOwner
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
    if isinstance(error, NotOwner):  # another core's call: the client sends it again to the owner
        context.set_trailing_metadata(
            (
                (CODE_KEY, error.code),
                (NOT_OWNER_ACCOUNT_KEY, error.account_id),
                (NOT_OWNER_PARTITION_KEY, str(error.partition)),
                (OWNER_ADDRESS_KEY, error.owner_address),
            )
        )
        await context.abort(grpc.StatusCode.FAILED_PRECONDITION, error.message)
    context.set_trailing_metadata(((CODE_KEY, error.code), (PARAM_KEY, error.param or "")))
    await context.abort(_GRPC_BY_HTTP.get(error.status, grpc.StatusCode.INTERNAL), error.message)
