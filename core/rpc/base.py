"""What every servicer shares: the error-rendering decorator and the base class."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc

from core.rpc.auth import INTERNAL_KEY, Authenticator
from core.rpc.errors import abort
from core.services.core import Core
from core.services.ownership import ACCOUNT_KEY, NotOwner, route_object
from core.store.partition_fence import PartitionFenced
from ringside_server.errors import RingsideError

Context = grpc.aio.ServicerContext
R = TypeVar("R")
MAX_PROTO_STRING = 4096


def rpc(method: Callable[..., Awaitable[R]]) -> Callable[..., Awaitable[R]]:
    """Render RingsideError as a status; leave everything else to gRPC (INTERNAL)."""

    @functools.wraps(method)
    async def wrapper(self: Any, request: Any, context: Context) -> R:
        try:
            if self.core.ownership.serving is not None:  # several active cores: another's object?
                _route(self, request, context)
            load = self.core.customer_load
            if load is not None and not load.finished:  # a lazy start: its customer, or every one
                await load.before(method.__name__, request)
            return await method(self, request, context)
        except PartitionFenced as fenced:  # written on a partition another core holds: send it there
            ownership = self.core.ownership
            if ownership.serving is None:
                await abort(context, fenced)
            partition = fenced.partitions[0]
            await abort(context, NotOwner("", partition, ownership.owners.get(partition, "")))
            raise AssertionError("unreachable") from fenced
        except RingsideError as error:
            await abort(context, error)
            raise AssertionError("unreachable") from error

    return wrapper


def _route(servicer: Any, request: Any, context: Context) -> None:
    """An internal call naming neither an account nor a key (a worker's, by object id) goes to the
    core serving that object's account (core/services/ownership.py `route_object`)."""
    names = {key for key, _ in context.invocation_metadata() or ()}
    if "authorization" in names or ACCOUNT_KEY in names or INTERNAL_KEY not in names:
        return  # routed by its key (principal) or its account (Authenticator.internal)
    route_object(servicer.core.ownership, servicer.core.engine, request)


class Base:
    def __init__(self, core: Core, auth: Authenticator) -> None:
        self.core = core
        self.auth = auth
