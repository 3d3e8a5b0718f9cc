"""The edge's outermost middleware counts the requests in flight (ringside_server/answering.py), so
that background calls to the core wait for a spell with none, whether a request is answered or refused."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from edge_http.observability import observe
from ringside_server.answering import Answering
from ringside_server.errors import RingsideError
from ringside_server.observability.metrics import EdgeMetrics


async def test_the_edge_counts_each_request_in_flight_until_it_is_answered() -> None:
    answering = Answering()
    middleware = observe(EdgeMetrics.create(), answering)
    seen: list[int] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        seen.append(answering.in_flight)
        if len(seen) == 2:
            raise RingsideError("invalid_request", "refused")
        return web.Response(text="ok")

    await middleware(make_mocked_request("POST", "/v1/chat/completions"), handler)
    with pytest.raises(RingsideError):
        await middleware(make_mocked_request("POST", "/v1/chat/completions"), handler)
    assert seen == [1, 1]
    assert answering.in_flight == 0
