"""The edge's app factory and process: `create_app(settings)`, `serve(settings)`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
from collections.abc import AsyncIterator

import aiohttp
import yaml
from aiohttp import web

from edge_http.bodies import bodies
from edge_http.client_tokens import add_cors_headers, client_tokens
from edge_http.context import EDGE, Edge
from edge_http.idempotency import idempotency
from edge_http.middlewares import BrokenBodyDrain, errors
from edge_http.observability import METRICS, observe
from edge_http.protocol import EdgeRunner
from edge_http.rate_limits import COUNTING, add_remaining_header, counting, rate_limits
from edge_http.readiness import READINESS, Readiness
from edge_http.routes import add_routes
from edge_http.verified_keys import VerifiedKeys
from ringside_server.answering import Answering
from ringside_server.core_client import CoreClient
from ringside_server.file_store import open_file_store
from ringside_server.heap import settle_heap
from ringside_server.metering.breaker import Breakers
from ringside_server.metering.journal import DIRECTORY as JOURNAL_DIRECTORY
from ringside_server.metering.journal import Journal
from ringside_server.metering.leases import LeaseManager
from ringside_server.observability.metrics import EdgeMetrics
from ringside_server.providers.configured import models_and_providers
from ringside_server.providers.local import LocalProvider
from ringside_server.providers.session import providers_session
from ringside_server.rag_client import RagClient
from ringside_server.request_log import RequestRecorder
from ringside_server.settings import Settings

log = logging.getLogger("ringside.edge")
SESSION = web.AppKey("providers_session", aiohttp.ClientSession)
LOCAL = web.AppKey("local_provider", LocalProvider)
# After the drain (RINGSIDE_DRAIN_TIMEOUT_S), how long the last lease reports may take: with the core
# up they take milliseconds; with it unreachable the leases expire and the core posts them (leases.py),
# so waiting a second drain for it would only delay the stop.
LEASE_CLOSE_S = 5.0


def reload_catalog(app: web.Application) -> None:
    """SIGHUP: read the providers file again, without a restart; a file that does not load keeps
    the catalog as it was. Calls in flight finish with what they resolved."""
    edge = app[EDGE]
    try:
        edge.refs, edge.providers = models_and_providers(edge.settings, app[SESSION], app[LOCAL])
    except (OSError, ValueError, yaml.YAMLError) as error:
        log.error("catalog not reloaded, the previous one stays: %s", error)
        return
    edge.forget_slots()
    log.info("catalog reloaded: %d models, %d providers configured", len(edge.catalog), len(edge.providers))


REPLAY_AT_START_S = 10.0


def open_journal(settings: Settings) -> Journal | None:
    """The lease journal under the data directory; None (every call then goes the per-call way,
    which never needs one) when it cannot be written there."""
    try:
        return Journal(settings.ensure_data_dir() / JOURNAL_DIRECTORY)
    except OSError as error:
        log.error(
            "lease journal not writable under %s (%s): leases off, every call authorized by the core",
            settings.data_dir,
            error,
        )
        return None


def create_app(settings: Settings) -> web.Application:
    metrics = EdgeMetrics.create(settings.metrics_customer_label)
    answering = Answering()  # background calls to the core go between requests (answering.py)
    app = web.Application(
        client_max_size=settings.body_max_bytes,
        middlewares=[observe(metrics, answering), errors, rate_limits, client_tokens, bodies, idempotency],
    )
    app[METRICS] = metrics
    app.on_response_prepare.append(add_cors_headers)
    app.on_response_prepare.append(add_remaining_header)
    app[COUNTING] = counting(settings)
    app[READINESS] = Readiness()
    add_routes(app)

    async def clients(app: web.Application) -> AsyncIterator[None]:
        core = CoreClient(settings.resolved_core_address, settings.resolve_internal_token(), settings.core_partitions)
        connector = aiohttp.TCPConnector(limit=2000, limit_per_host=1000, keepalive_timeout=60)
        session = providers_session(connector)
        leases = None
        request_log = RequestRecorder(core, lambda reason, count: metrics.request_log_dropped.labels(reason).inc(count))
        request_log.start()
        verified_keys = VerifiedKeys()  # renewed by VerifyApiKey, and by the lease reports
        journal = open_journal(settings) if settings.leases else None
        if journal is not None:
            instance = f"{socket.gethostname()}:{os.getpid()}"
            leases = LeaseManager(
                core, instance, settings.lease_window_s, journal, request_log, verified_keys.confirmed, answering
            )
            await leases.replay_once(REPLAY_AT_START_S)  # a read right after this start sees those calls
            leases.start()
        rag = RagClient(settings.resolved_rag_address, settings.resolve_internal_token())
        local = LocalProvider(rag)
        refs, providers = models_and_providers(settings, session, local)
        app[SESSION] = session
        app[LOCAL] = local
        app[EDGE] = Edge(
            settings=settings,
            core=core,
            refs=refs,
            providers=providers,
            leases=leases,
            breakers=Breakers(settings.breaker_failures, settings.breaker_cooldown_s),
            trusted_proxies=settings.trusted_proxy_networks,
            rag=rag,
            metrics=metrics,
            request_log=request_log,
            verified_keys=verified_keys,
            files=open_file_store(settings),
            answering=answering,
        )
        yield
        with contextlib.suppress(TimeoutError):  # handlers have drained: their query log entries go
            await asyncio.wait_for(app[EDGE].query_log.drain(), settings.drain_timeout_s)
        if leases is not None:  # handlers have drained: report every call, close every lease
            await leases.close(min(settings.drain_timeout_s, LEASE_CLOSE_S))
        await request_log.close()
        await session.close()
        await rag.close()
        await core.close()

    app.cleanup_ctx.append(clients)
    return app


async def serve(settings: Settings) -> None:
    logging.getLogger("aiohttp.server").addFilter(BrokenBodyDrain())
    runner = EdgeRunner(
        create_app(settings),
        settings,
        access_log=None,
        handle_signals=False,
        shutdown_timeout=settings.drain_timeout_s,
    )
    await runner.setup()
    # Several edge processes (RINGSIDE_EDGE_WORKERS) share the port: the kernel spreads new
    # connections over those listening. One alone keeps the port its own, as before.
    shared = settings.edge_workers > 1
    site = web.TCPSite(runner, settings.bind_host, settings.http_port, backlog=4096, reuse_port=shared or None)
    await site.start()
    settle_heap()  # everything alive now lives as long as the process (ringside_server/heap.py)
    log.info(
        "edge serving HTTP on http://%s:%d%s",
        settings.bind_host,
        settings.http_port,
        f" (pid {os.getpid()}, one of {settings.edge_workers} sharing the port)" if shared else "",
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    loop.add_signal_handler(signal.SIGHUP, reload_catalog, runner.app)
    await stop.wait()
    runner.app[READINESS].draining = True
    if settings.readiness_grace_s:
        log.info("edge stopping: /readyz answers 503 for %.0f s before it stops accepting", settings.readiness_grace_s)
        await asyncio.sleep(settings.readiness_grace_s)
    log.info("edge stopping: draining in-flight calls (up to %.0f s)", settings.drain_timeout_s)
    await runner.cleanup()
    log.info("edge stopped")
