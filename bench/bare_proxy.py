"""The physical floor for a Python edge: an aiohttp pass-through proxy with no checks at all.

It forwards ``POST /v1/chat/completions`` to the upstream over one shared client session, relays the
status and body, and relays streams chunk by chunk as they arrive. Whatever a real gateway adds on top
of this is the gateway's own cost.

Run: ``python -m bench.bare_proxy --port 8901 --upstream http://127.0.0.1:8900/v1``.
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator

import aiohttp
import orjson
from aiohttp import web

MAX_BODY_BYTES = 32 * 1024 * 1024
MAX_UPSTREAM_CONNECTIONS = 1024
UPSTREAM_READ_TIMEOUT_S = 120.0
_FORWARDED_REQUEST_HEADERS = ("Authorization", "Content-Type", "Accept")
_RELAYED_RESPONSE_HEADERS = ("Content-Type", "Content-Encoding")

UPSTREAM_BASE_URL = web.AppKey("upstream_base_url", str)
SESSION = web.AppKey("upstream_session", aiohttp.ClientSession)


async def upstream_session(app: web.Application) -> AsyncIterator[None]:
    """One pooled client session for the app's lifetime (cleanup_ctx)."""
    app[SESSION] = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=MAX_UPSTREAM_CONNECTIONS),
        timeout=aiohttp.ClientTimeout(total=None, sock_connect=5, sock_read=UPSTREAM_READ_TIMEOUT_S),
        # Relay bytes exactly as sent; decompressing only to recompress would be wasted work.
        auto_decompress=False,
    )
    yield
    await app[SESSION].close()


def _bad_gateway(failure: Exception) -> web.Response:
    error = {"message": f"Upstream failed: {type(failure).__name__}", "type": "server_error"}
    body = orjson.dumps({"error": {**error, "param": None, "code": None}})
    return web.Response(status=502, body=body, content_type="application/json")


async def chat_completions(request: web.Request) -> web.StreamResponse:
    """Forward the request; relay the answer, streaming it if the upstream streams."""
    headers = {name: request.headers[name] for name in _FORWARDED_REQUEST_HEADERS if name in request.headers}
    url = request.app[UPSTREAM_BASE_URL] + "/chat/completions"
    try:
        upstream = await request.app[SESSION].post(url, data=await request.read(), headers=headers)
    except aiohttp.ClientError as failure:
        return _bad_gateway(failure)
    async with upstream:
        relayed = {name: upstream.headers[name] for name in _RELAYED_RESPONSE_HEADERS if name in upstream.headers}
        if not upstream.headers.get("Content-Type", "").startswith("text/event-stream"):
            try:
                return web.Response(status=upstream.status, body=await upstream.read(), headers=relayed)
            except aiohttp.ClientError as failure:
                return _bad_gateway(failure)
        response = web.StreamResponse(status=upstream.status, headers=relayed)
        await response.prepare(request)
        try:
            async for chunk in upstream.content.iter_any():
                await response.write(chunk)
        except aiohttp.ClientError:
            # The status line is already sent: the only honest signal left is a cut connection.
            if request.transport is not None:
                request.transport.abort()
            return response
        await response.write_eof()
        return response


def create_app(upstream_base_url: str) -> web.Application:
    """The proxy as an aiohttp application, forwarding to ``upstream_base_url`` (ending in ``/v1``)."""
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[UPSTREAM_BASE_URL] = upstream_base_url.rstrip("/")
    app.cleanup_ctx.append(upstream_session)
    app.router.add_post("/v1/chat/completions", chat_completions)
    return app


def main(argv: list[str] | None = None) -> None:
    """Serve the proxy until SIGINT/SIGTERM, on uvloop."""
    import uvloop

    parser = argparse.ArgumentParser(prog="python -m bench.bare_proxy", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True, help="upstream base URL, e.g. http://127.0.0.1:8900/v1")
    args = parser.parse_args(argv)
    web.run_app(
        create_app(args.upstream),
        host=args.host,
        port=args.port,
        access_log=None,
        # A client that hangs up should stop the upstream call too, as a real gateway's would.
        handler_cancellation=True,
        shutdown_timeout=1.0,
        backlog=4096,
        loop=uvloop.new_event_loop(),
    )


if __name__ == "__main__":
    main()
