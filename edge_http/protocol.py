"""The edge's connections: caps (in all, per client IP), read timeouts, and parser errors in the
envelope (issue 15, items 1 and 4).

aiohttp times out an idle keep-alive connection but never one that is sending its request: a client
trickling a header byte every few seconds holds its connection for ever. Here the headers must be
complete within `header_read_timeout_s` and the body within `body_read_timeout_s`; both clocks run
only while the request is being read, so a streamed answer or a slow upstream is never cut. A
request the parser refuses (a bad request line, non-UTF-8 header bytes, a bad Content-Encoding) is
answered in the documented error envelope with an `x-request-id`, never echoing the bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from typing import Any

from aiohttp import web
from aiohttp.http import RawRequestMessage
from aiohttp.streams import StreamReader
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

from ringside_server.errors import RingsideError
from ringside_server.ids import new_request_id
from ringside_server.openai.errors import error_body
from ringside_server.settings import Settings

log = logging.getLogger("ringside.edge.connections")
# At shutdown, how long a call cancelled at the end of the drain has to settle as aborted (one
# report to the core) before its connection is closed regardless.
ABORT_SETTLE_S = 3.0


class EdgeProtocol(RequestHandler):
    """One connection: counted against the caps, timed while its request is being read."""

    def __init__(self, manager: EdgeServer, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._edge = manager
        self._peer = ""
        self._counted = False
        self._read_timer: asyncio.TimerHandle | None = None
        self._reading = ""  # what the armed clock times: "headers" or "body"

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        peer = transport.get_extra_info("peername")
        self._peer = str(peer[0]) if isinstance(peer, tuple) and peer else ""
        if not self._edge.admit(self._peer):
            log.warning("connection refused: the connection cap is reached")
            self.force_close()
            return
        self._counted = True
        self.arm(self._edge.settings.header_read_timeout_s, "headers")

    def connection_lost(self, exc: BaseException | None) -> None:
        self.disarm()
        if self._counted:
            self._counted = False
            self._edge.release(self._peer)
        super().connection_lost(exc)

    def arm(self, timeout_s: float, what: str) -> None:
        """Close the connection unless `disarm` is called within `timeout_s`."""
        self.disarm()
        self._read_timer = self._loop.call_later(timeout_s, self._read_timed_out, what)
        self._reading = what

    def disarm(self) -> None:
        if self._read_timer is not None:
            self._read_timer.cancel()
            self._read_timer = None
        self._reading = ""

    def body_read(self) -> None:
        """The parser has the whole body: its clock stops (and only its clock: a body that ends
        after its answer, which aiohttp reads to discard, must not stop the next request's)."""
        if self._reading == "body":
            self.disarm()

    def _read_timed_out(self, what: str) -> None:
        self._read_timer = None
        self._reading = ""
        log.info("connection closed: its request %s were not read in time", what)
        self.force_close()

    async def shutdown(self, timeout: float | None = 15.0) -> None:  # noqa: ASYNC109 (aiohttp's signature)
        """The request in flight has `timeout` (the drain) to finish; then its handler is cancelled,
        so the call settles as aborted, and the connection closes within ABORT_SETTLE_S more.

        aiohttp's own shutdown, at the drain's end, only interrupts the request's body read and
        then waits the whole timeout again before cancelling the handler: a call waiting on its
        upstream kept the edge up for twice the drain."""
        task = self._task_handler
        if timeout is not None and self._request_in_progress and task is not None and not task.done():
            self._force_close = True  # no next request on this connection
            waiter = self._handler_waiter = self._loop.create_future()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(waiter), timeout)
            if self._request_in_progress and not task.done():
                log.info("a call still in flight at the end of the drain is cancelled (it settles as aborted)")
                task.cancel()
                with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                    await asyncio.wait_for(asyncio.shield(task), ABORT_SETTLE_S)
            self._handler_waiter = None
        await super().shutdown(0 if task is None or task.done() else ABORT_SETTLE_S)

    def handle_error(
        self, request: BaseRequest, status: int = 500, exc: BaseException | None = None, message: str | None = None
    ) -> web.StreamResponse:
        """The envelope for what fails before a handler runs: the parser's 400s (its message may
        quote the bad bytes, so it is not repeated) and aiohttp's own 500s."""
        request_id = new_request_id()
        if status >= 500:
            log.error("request failed before a handler ran (%s)", type(exc).__name__ if exc else status)
            error = RingsideError("internal_error", "Ringside failed to handle this request.")
        else:
            log.info("malformed request refused by the HTTP parser (%s)", type(exc).__name__ if exc else status)
            error = RingsideError("invalid_request", "The request is not valid HTTP/1.1 (a header, or its encoding).")
            if status == 413:
                error = RingsideError("payload_too_large", "The request line or a header is too large.")
        response = web.Response(
            status=error.status,
            body=error_body(error, request_id),
            content_type="application/json",
            headers={"x-request-id": request_id},
        )
        response.force_close()
        return response


class EdgeServer(web.Server):
    """aiohttp's server with `EdgeProtocol` connections and the connection counts they share."""

    def __init__(self, settings: Settings, handler: Any, **kwargs: Any) -> None:
        super().__init__(self._timed(handler), **kwargs)
        self.settings = settings
        self.open_connections = 0
        self.per_ip: Counter[str] = Counter()
        self._factory = self.request_factory
        self.request_factory = self._request_read

    def __call__(self) -> RequestHandler:
        return EdgeProtocol(self, loop=self._loop, **self._kwargs)

    def admit(self, peer: str) -> bool:
        if self.open_connections >= self.settings.max_connections:
            return False
        if self.per_ip[peer] >= self.settings.max_connections_per_ip:
            return False
        self.open_connections += 1
        self.per_ip[peer] += 1
        return True

    def release(self, peer: str) -> None:
        self.open_connections -= 1
        self.per_ip[peer] -= 1
        if self.per_ip[peer] <= 0:
            del self.per_ip[peer]

    def _request_read(
        self,
        message: RawRequestMessage,
        payload: StreamReader,
        protocol: RequestHandler,
        writer: Any,
        task: asyncio.Task[None],
        _cls: type[BaseRequest] = web.Request,
    ) -> BaseRequest:
        """The headers are in: their clock stops; the body's starts until the parser has it all."""
        if isinstance(protocol, EdgeProtocol):
            if payload.is_eof():
                protocol.disarm()
            else:
                protocol.arm(self.settings.body_read_timeout_s, "body")
                payload.on_eof(protocol.body_read)
        return self._factory(message, payload, protocol, writer, task)

    def _timed(self, handler: Any) -> Any:
        async def handle(request: BaseRequest) -> web.StreamResponse:
            try:
                return await handler(request)
            finally:
                protocol = request.protocol
                if isinstance(protocol, EdgeProtocol) and protocol.transport is not None:
                    # idle keep-alive, then the next request's headers
                    idle_s = self.settings.keepalive_timeout_s + self.settings.header_read_timeout_s
                    protocol.arm(idle_s, "headers")

        return handle


class EdgeRunner(web.AppRunner):
    """An AppRunner whose server is an `EdgeServer`."""

    def __init__(self, app: web.Application, settings: Settings, **kwargs: Any) -> None:
        super().__init__(app, keepalive_timeout=settings.keepalive_timeout_s, **kwargs)
        self._settings = settings

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        return EdgeServer(
            self._settings,
            server.request_handler,
            request_factory=server.request_factory,
            loop=asyncio.get_running_loop(),
            **self._kwargs,
        )
