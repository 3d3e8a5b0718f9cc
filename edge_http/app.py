"""The edge's app factory and process: `create_app(settings)`, `serve(settings)`."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from edge_http.breaker import Breakers
from edge_http.client_tokens import add_cors_headers, client_tokens
from edge_http.context import EDGE, Edge
from edge_http.idempotency import idempotency
from edge_http.leases import LeaseManager
from edge_http.middlewares import errors
from edge_http.providers.catalog.load import load
from edge_http.providers.refs import Refs
from edge_http.providers.registry import build_providers
from edge_http.routes import add_routes
from ringside.core_client import CoreClient
from ringside.settings import Settings

log = logging.getLogger("ringside.edge")
MAX_BODY_BYTES = 32 * 1024 * 1024


def create_app(settings: Settings) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[errors, client_tokens, idempotency])
    app.on_response_prepare.append(add_cors_headers)
    add_routes(app)

    async def clients(app: web.Application) -> AsyncIterator[None]:
        core = CoreClient(settings.resolved_core_address, settings.resolve_internal_token())
        connector = aiohttp.TCPConnector(limit=2000, limit_per_host=1000, keepalive_timeout=60)
        session = aiohttp.ClientSession(connector=connector, auto_decompress=True)
        leases = None
        if settings.leases:
            leases = LeaseManager(core, f"{socket.gethostname()}:{os.getpid()}", settings.lease_window_s)
            leases.start()
        catalog = load(operator_file=settings.providers_file)
        app[EDGE] = Edge(
            settings=settings,
            core=core,
            refs=Refs.of(catalog),
            providers=build_providers(
                catalog.providers,
                catalog.models,
                settings.environment,
                session,
                settings.upstream_timeout_s,
                settings.upstream_connect_timeout_s,
            ),
            leases=leases,
            breakers=Breakers(settings.breaker_failures, settings.breaker_cooldown_s),
            trusted_proxies=settings.trusted_proxy_networks,
        )
        yield
        if leases is not None:  # handlers have drained: report every call, close every lease
            await leases.close(settings.drain_timeout_s)
        await session.close()
        await core.close()

    app.cleanup_ctx.append(clients)
    return app


async def serve(settings: Settings) -> None:
    runner = web.AppRunner(
        create_app(settings), access_log=None, handle_signals=False, shutdown_timeout=settings.drain_timeout_s
    )
    await runner.setup()
    site = web.TCPSite(runner, settings.bind_host, settings.http_port, backlog=4096)
    await site.start()
    log.info("edge serving HTTP on http://%s:%d", settings.bind_host, settings.http_port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    log.info("edge stopping: draining in-flight calls (up to %.0f s)", settings.drain_timeout_s)
    await runner.cleanup()
    log.info("edge stopped")
