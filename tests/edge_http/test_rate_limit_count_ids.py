"""edge_http/rate_limits.py: each request's CountRequest names the edge's request id (the one its
answer carries in x-request-id), so the routing may resend a count cut off in flight and the core
counts it once (core/domain/recent_counts.py). A real aiohttp server; the core's client stands in."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from edge_http.context import EDGE
from edge_http.middlewares import errors
from edge_http.rate_limits import COUNTING, rate_limits
from ringside.core.v1 import metering_pb2


class CountingCore:
    def __init__(self) -> None:
        self.metering = SimpleNamespace(CountRequest="CountRequest")
        self.asked: list[metering_pb2.CountRequestRequest] = []

    async def internal(self, method: str, request: Any, timeout_s: float = 10.0) -> Any:
        assert method == "CountRequest"
        self.asked.append(request)
        return metering_pb2.CountRequestResponse()


async def test_each_requests_count_names_its_own_request_id() -> None:
    core = CountingCore()
    app = web.Application(middlewares=[errors, rate_limits])
    app[EDGE] = SimpleNamespace(core=core, trusted_proxies=())  # type: ignore[misc]
    app[COUNTING] = True

    async def ok(_: web.Request) -> web.Response:
        return web.json_response({})

    app.router.add_get("/v1/customers", ok)
    async with TestClient(TestServer(app)) as client:
        answers = [await client.get("/v1/customers") for _ in range(2)]
        request_ids = [answer.headers["x-request-id"] for answer in answers]
    assert [asked.request_id for asked in core.asked] == request_ids
    assert request_ids[0] != request_ids[1] and all(rid.startswith("req_") for rid in request_ids)
