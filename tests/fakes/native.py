"""What the fakes of native provider APIs (Anthropic, Gemini) share: the recorded requests at
`GET /_fake/requests`, the expected key, the app and its command line."""

from __future__ import annotations

import argparse
from collections import deque
from collections.abc import Callable
from typing import Any

import orjson
from aiohttp import web

MAX_RECORDED_REQUESTS = 1000
RECORDS = web.AppKey("records", deque[dict[str, Any]])
KEY = web.AppKey("key", str)


def record(request: web.Request) -> dict[str, Any]:
    """A new record of this request (headers and path now; the handler adds the body)."""
    entry: dict[str, Any] = {"headers": {str(k): v for k, v in request.headers.items()}, "path": request.path_qs}
    request.app[RECORDS].append(entry)
    return entry


async def recorded(request: web.Request) -> web.Response:
    return web.Response(body=orjson.dumps(list(request.app[RECORDS])), content_type="application/json")


def create_app(api_key: str, add_routes: Callable[[web.UrlDispatcher], None]) -> web.Application:
    app = web.Application(client_max_size=32 * 1024 * 1024)
    app[RECORDS] = deque(maxlen=MAX_RECORDED_REQUESTS)
    app[KEY] = api_key
    add_routes(app.router)
    app.router.add_get("/_fake/requests", recorded)
    return app


def main(module: str, default_port: int, default_key: str, add_routes: Callable[[web.UrlDispatcher], None]) -> None:
    parser = argparse.ArgumentParser(prog=f"python -m tests.fakes.{module}")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=default_port)
    parser.add_argument("--api-key", default=default_key)
    args = parser.parse_args()
    app = create_app(args.api_key, add_routes)
    web.run_app(app, host=args.host, port=args.port, access_log=None, shutdown_timeout=0.5)
