"""The core's process: load state, serve gRPC (with health and reflection), expire holds."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import time
from collections.abc import Callable, Coroutine
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection
from sqlalchemy import Engine

from core.domain.entities import hash_secret
from core.domain.metering import Meter
from core.domain.ratelimit import RateDefaults
from core.domain.retention import DAY_S, HOUR_S, RetentionPolicy
from core.domain.webhooks import OutboxEntry
from core.rpc.accounts import AccountsServicer, ApiKeysServicer
from core.rpc.assistants import AssistantsServicer
from core.rpc.auth import Authenticator
from core.rpc.batches import BatchesServicer
from core.rpc.billing import BillingServicer
from core.rpc.client_tokens import ClientTokensServicer
from core.rpc.customers import CustomersServicer
from core.rpc.files import FilesServicer
from core.rpc.idempotency import IdempotencyServicer
from core.rpc.metering import MeteringServicer
from core.rpc.requests import RequestsServicer
from core.rpc.responses import ResponsesServicer
from core.rpc.slots import SlotsServicer
from core.rpc.system import SystemServicer
from core.rpc.tiers import TiersServicer
from core.rpc.usage import UsageServicer
from core.rpc.vector_stores import VectorStoresServicer
from core.rpc.wallets import WalletsServicer
from core.rpc.webhooks import WebhooksServicer
from core.services import accounts, client_tokens, erasure
from core.services.accounts import NewAccount
from core.services.core import Core
from core.services.customer_load import CustomerLoad
from core.services.ip_blocks import IpBlocks
from core.services.metering import run_expiry
from core.services.ownership import Ownership, key_router
from core.services.partition_share import (
    advertised,
    claim_share,
    keep_share,
    leaving_windows,
    load_partitions,
    saving,
)
from core.services.partitions import claim_partitions, keep_partitions
from core.store.core_addresses import forget
from core.store.engine import make_engine, restrict_files
from core.store.loader import load_state, release_freed_heap
from core.store.migrate import prepare
from core.store.partition_fence import SYSTEM_PARTITION, Fence
from core.store.partition_leases import PartitionLeases, session_name
from core.store.sealing import Sealer, attach, reseal
from core.store.writer import GroupCommitWriter
from ringside.core.v1 import (
    accounts_pb2,
    accounts_pb2_grpc,
    assistants_pb2,
    assistants_pb2_grpc,
    batches_pb2_grpc,
    billing_pb2,
    billing_pb2_grpc,
    client_tokens_pb2,
    client_tokens_pb2_grpc,
    customers_pb2,
    customers_pb2_grpc,
    files_pb2,
    files_pb2_grpc,
    idempotency_pb2,
    idempotency_pb2_grpc,
    keys_pb2,
    keys_pb2_grpc,
    metering_pb2,
    metering_pb2_grpc,
    requests_pb2,
    requests_pb2_grpc,
    responses_pb2,
    responses_pb2_grpc,
    slots_pb2,
    slots_pb2_grpc,
    system_pb2,
    system_pb2_grpc,
    tiers_pb2,
    tiers_pb2_grpc,
    usage_pb2,
    usage_pb2_grpc,
    vector_stores_pb2,
    vector_stores_pb2_grpc,
    wallets_pb2,
    wallets_pb2_grpc,
    webhooks_pb2,
    webhooks_pb2_grpc,
)
from ringside_server.heap import settle_heap
from ringside_server.netpolicy import AddressPolicy
from ringside_server.observability.grpc_server import RpcMetrics
from ringside_server.observability.metrics import CoreMetrics, serve_metrics
from ringside_server.settings import CREDENTIALS_FILE, Settings

log = logging.getLogger("ringside.core")

SERVICE_NAMES = [
    accounts_pb2.DESCRIPTOR.services_by_name["AccountsService"].full_name,
    keys_pb2.DESCRIPTOR.services_by_name["ApiKeysService"].full_name,
    customers_pb2.DESCRIPTOR.services_by_name["CustomersService"].full_name,
    files_pb2.DESCRIPTOR.services_by_name["FilesService"].full_name,
    vector_stores_pb2.DESCRIPTOR.services_by_name["VectorStoresService"].full_name,
    metering_pb2.DESCRIPTOR.services_by_name["MeteringService"].full_name,
    system_pb2.DESCRIPTOR.services_by_name["SystemService"].full_name,
    usage_pb2.DESCRIPTOR.services_by_name["UsageService"].full_name,
    tiers_pb2.DESCRIPTOR.services_by_name["TiersService"].full_name,
    slots_pb2.DESCRIPTOR.services_by_name["SlotsService"].full_name,
    wallets_pb2.DESCRIPTOR.services_by_name["WalletsService"].full_name,
    idempotency_pb2.DESCRIPTOR.services_by_name["IdempotencyService"].full_name,
    client_tokens_pb2.DESCRIPTOR.services_by_name["ClientTokensService"].full_name,
    webhooks_pb2.DESCRIPTOR.services_by_name["WebhooksService"].full_name,
    billing_pb2.DESCRIPTOR.services_by_name["BillingService"].full_name,
    responses_pb2.DESCRIPTOR.services_by_name["ResponsesService"].full_name,
    assistants_pb2.DESCRIPTOR.services_by_name["AssistantsService"].full_name,
    requests_pb2.DESCRIPTOR.services_by_name["RequestsService"].full_name,
]
MAX_MESSAGE_BYTES = 4 * 1024 * 1024

# The clients' keepalive pings (ringside_server/core_client.py) are welcome every second, with or
# without calls in flight: the default policy would answer them with GOAWAY (too_many_pings).
SERVER_OPTIONS = [
    ("grpc.http2.min_recv_ping_interval_without_data_ms", 500),
    ("grpc.http2.min_ping_interval_without_data_ms", 500),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_ping_strikes", 0),
]


async def open_core(settings: Settings, lazy: bool = False) -> Core:
    """Check the schema (an empty database gets one), load the hot state and start the writer.
    `lazy` (what `serve` asks for): only the tenants' state (of its share, with `fair`) is loaded
    before this returns; its customers load in the background and on demand
    (core/services/customer_load.py). Partitions adopted later load whole."""
    settings.ensure_data_dir()
    sealer = Sealer(settings.resolve_secret_keys())
    engine = attach(
        make_engine(
            settings.resolved_database_url,
            settings.sqlite_synchronous,
            application_name=session_name(settings.resolved_core_id),
        ),
        sealer,
    )
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, prepare, engine)
    # PostgreSQL: hold every partition first (a predecessor's lease lapses first), then load: the
    # state loaded is then every write the fenced predecessor could ever have made.
    metrics = CoreMetrics.create() if settings.core_metrics_port else None
    if metrics is not None:  # before the claim: a standby's liveness probe reads it while it waits
        serve_metrics(metrics.registry, settings.bind_host, settings.core_metrics_port)
    fair = engine.dialect.name == "postgresql" and settings.core_share == "fair"
    leases: PartitionLeases | None
    if fair:  # its share of what is free now, served at once (core/services/partition_share.py)
        leases = await claim_share(engine, settings)
    else:
        leases = await claim_partitions(engine, settings) if engine.dialect.name == "postgresql" else None
    # Renewed from the claim on: loading a large state takes longer than a lease lives.
    renewal = asyncio.create_task(keep_partitions(leases, settings.core_lease_ttl_s)) if leases is not None else None
    # Resealed only once the partitions are held: an account-less write, fenced on the system partition.
    if leases is None or SYSTEM_PARTITION in leases.fence.held:  # a share without it: its owner reseals
        await loop.run_in_executor(None, seal_at_rest, engine, sealer, leases.fence if leases is not None else None)
    loading, loading_cpu = time.perf_counter(), time.process_time()
    if fair and leases is not None:
        state = await loop.run_in_executor(
            None, load_partitions, engine, set(leases.fence.held), settings.core_partitions, not lazy
        )
    else:
        state = await loop.run_in_executor(None, load_state, engine, int(time.time()), None, not lazy)
    release_freed_heap()
    log.info(
        "state loaded in %.2f s, %.2f s of CPU (%d customers)",
        time.perf_counter() - loading,
        time.process_time() - loading_cpu,
        len(state.customers),
    )
    fence = leases.fence if leases is not None else None
    writer = GroupCommitWriter(engine, settings.commit_batch_max, settings.commit_linger_ms, fence=fence)
    if renewal is not None and leases is not None:
        writer.on_close.append(renewal.cancel)
        # Its writes are over: a waiting core may take its partitions now (and a core restarted in
        # this process under the same id need not wait for the lock's connection to be collected).
        # `serve` takes this out for a clean stop, whose release drops the lock after it writes.
        writer.on_close.append(leases.drop_liveness_lock)
    writer.start()
    core = Core(
        engine=engine,
        state=state,
        writer=writer,
        meter=Meter(
            state,
            settings.hold_ttl_s,
            time.time,
            RateDefaults(
                ip_per_min=settings.rate_limit_ip_per_min,
                client_token_per_min=settings.rate_limit_client_token_per_min,
                account_per_min=settings.rate_limit_account_per_min,
                window_s=settings.rate_limit_window_s,
            ),
            settings.lease_window_s,
        ),
        webhook_policy=AddressPolicy.parse(settings.webhook_allowed_networks),
        retention=RetentionPolicy(
            events_s=settings.retention_events_days * DAY_S,
            delivery_attempts_s=settings.retention_delivery_attempts_days * DAY_S,
            outbox_s=settings.retention_outbox_days * DAY_S,
            idempotency_keys_s=settings.retention_idempotency_hours * HOUR_S,
            responses_s=settings.retention_responses_days * DAY_S,
            assistants_s=settings.retention_assistants_days * DAY_S,
            rag_queries_s=settings.retention_rag_queries_days * DAY_S,
            requests_s=settings.retention_requests_days * DAY_S,
        ),
        batch_window_s=settings.batch_window_s,
    )
    core.partition_leases = leases
    if lazy:
        load = core.customer_load = CustomerLoad(engine, state, filtered=fair)
        loading_task = asyncio.create_task(load.run(), name="customer-load")
        writer.on_close.append(loading_task.cancel)
    if fair and leases is not None:
        core.ownership = Ownership(
            settings.core_partitions, serving=frozenset(leases.fence.held), address=advertised(settings)
        )
        core.meter.route_key = key_router(core.ownership, engine)
        if settings.rate_limit_ip_per_min:  # an IP's window exact across the active cores
            core.ip_blocks = IpBlocks(core, settings.resolve_internal_token())
            core.ip_blocks.install()
        assert renewal is not None  # renewing since the claim: loading the share must not let it lapse
        renewal = asyncio.create_task(keep_share(core, settings, renewal), name="partition-share")
        writer.on_close.append(renewal.cancel)
    core.partition_renewal = renewal
    writer.notify(OutboxEntry, core.outbox_written)
    if metrics is not None:
        core.metrics = metrics
        writer.on_commit = metrics.committed
    return core


async def _after_load(
    core: Core, loop_forever: Callable[[], Coroutine[Any, Any, None]], then: Callable[[], None] | None = None
) -> None:
    """Run `loop_forever` once a lazy start has loaded every customer (`then` first)."""
    if core.customer_load is not None:
        await core.customer_load.wait()
        if then is not None:
            then()
    await loop_forever()


def seal_at_rest(engine: Engine, sealer: Sealer, fence: Fence | None = None) -> None:
    """Seal what an older version or a retired key left (once: later starts rewrite nothing), and
    keep a SQLite database's files private to their owner. On PostgreSQL only the system
    partition's owner rewrites, checked in the same transaction (a stale core rewrites nothing)."""
    with engine.begin() as connection:
        if fence is not None:
            fence.check(connection, (), system=True)
        rewritten = reseal(connection, sealer)
    if rewritten:
        log.info("sealed %d stored secrets under the current secret key", rewritten)
    restrict_files(engine)


def write_credentials(settings: Settings, new: NewAccount) -> None:
    """Keep the first keys in credentials.json (0600) for the operator, and say where they are."""
    path = settings.ensure_data_dir() / CREDENTIALS_FILE
    payload = {"api_key": new.live_key.secret, "test_api_key": new.test_key.secret, "account_id": new.account.id}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(payload, handle, indent=2)
    if settings.log_format == "json":  # a log pipeline keeps what it reads: never the keys
        log.info("created account %s; its keys are in %s", new.account.id, path)
        return
    # The secrets are not printed: a terminal's scrollback and a service's log outlive them.
    print(
        f"Created account {new.account.id}; its live and test keys are saved in {path.resolve()} (mode 0600).",
        flush=True,
    )


def build_server(core: Core, settings: Settings) -> tuple[grpc.aio.Server, HealthServicer]:
    options = [("grpc.max_receive_message_length", MAX_MESSAGE_BYTES), ("grpc.so_reuseport", 0), *SERVER_OPTIONS]
    interceptors = [RpcMetrics(core.metrics.registry)] if core.metrics is not None else []
    server = grpc.aio.server(options=options, interceptors=interceptors)
    auth = Authenticator(core, settings.resolve_internal_token(), settings.admin_key)
    core.admin_key_hash = hash_secret(settings.admin_key) if settings.admin_key else ""
    accounts_pb2_grpc.add_AccountsServiceServicer_to_server(AccountsServicer(core, auth), server)
    keys_pb2_grpc.add_ApiKeysServiceServicer_to_server(ApiKeysServicer(core, auth), server)
    customers_pb2_grpc.add_CustomersServiceServicer_to_server(CustomersServicer(core, auth), server)
    metering_pb2_grpc.add_MeteringServiceServicer_to_server(MeteringServicer(core, auth), server)
    system_pb2_grpc.add_SystemServiceServicer_to_server(SystemServicer(core, auth), server)
    usage_pb2_grpc.add_UsageServiceServicer_to_server(UsageServicer(core, auth), server)
    tiers_pb2_grpc.add_TiersServiceServicer_to_server(TiersServicer(core, auth), server)
    slots_pb2_grpc.add_SlotsServiceServicer_to_server(SlotsServicer(core, auth), server)
    wallets_pb2_grpc.add_WalletsServiceServicer_to_server(WalletsServicer(core, auth), server)
    idempotency_pb2_grpc.add_IdempotencyServiceServicer_to_server(IdempotencyServicer(core, auth), server)
    client_tokens_pb2_grpc.add_ClientTokensServiceServicer_to_server(ClientTokensServicer(core, auth), server)
    webhooks_pb2_grpc.add_WebhooksServiceServicer_to_server(WebhooksServicer(core, auth), server)
    billing_pb2_grpc.add_BillingServiceServicer_to_server(BillingServicer(core, auth), server)
    responses_pb2_grpc.add_ResponsesServiceServicer_to_server(ResponsesServicer(core, auth), server)
    assistants_pb2_grpc.add_AssistantsServiceServicer_to_server(AssistantsServicer(core, auth), server)
    requests_pb2_grpc.add_RequestsServiceServicer_to_server(RequestsServicer(core, auth), server)
    files_pb2_grpc.add_FilesServiceServicer_to_server(FilesServicer(core, auth), server)
    vector_stores_pb2_grpc.add_VectorStoresServiceServicer_to_server(VectorStoresServicer(core, auth), server)
    batches_pb2_grpc.add_BatchesServiceServicer_to_server(BatchesServicer(core, auth), server)
    health_servicer = HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection([*SERVICE_NAMES, health.SERVICE_NAME, reflection.SERVICE_NAME], server)
    address = f"{settings.bind_host}:{settings.grpc_port}"
    if server.add_insecure_port(address) == 0:
        raise SystemExit(f"core: cannot bind gRPC to {address}")
    return server, health_servicer


async def serve(settings: Settings) -> None:
    core = await open_core(settings, lazy=True)
    new = await accounts.bootstrap(core)
    if new is not None:
        write_credentials(settings, new)
    if core.ownership.serving is None or 0 in core.ownership.serving:  # account-less: the system partition's
        await client_tokens.ensure_signing_key(core)
    server, health_servicer = build_server(core, settings)
    await server.start()
    for name in ["", *SERVICE_NAMES]:
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    settle_heap()
    # Expiring holds and erasing customers read across customers: once every one is loaded.
    expiry = asyncio.create_task(_after_load(core, lambda: run_expiry(core), settle_heap), name="hold-expiry")
    renewing = core.partition_renewal
    erasures = asyncio.create_task(_after_load(core, lambda: erasure.sweep_forever(core)), name="erasures")
    log.info(
        "core serving gRPC on %s:%d (%s)",
        settings.bind_host,
        settings.grpc_port,
        core.engine.url.render_as_string(hide_password=True),
    )

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    waits = [asyncio.ensure_future(stop.wait()), *([renewing] if renewing is not None else [])]
    await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    fenced = renewing is not None and renewing.done()
    if fenced:  # another core holds some of its partitions now: this one's memory is stale
        log.error("core lost partitions to another core: stopping (restart to claim again)")
    log.info("core stopping: finishing in-flight calls, flushing writes")
    await health_servicer.enter_graceful_shutdown()
    await server.stop(grace=settings.drain_timeout_s)
    for task in (expiry, erasures):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    if core.partition_leases is not None and not fenced:
        # A clean stop keeps its liveness lock past the writer's close, until the release below
        # has written the rate-limit windows for the core taking its partitions over: dropped at
        # the close, a waiting core took them first and the release wrote none (2 of 3 clean stops
        # in tests/e2e/test_active_cores.py's hand-back test).
        with contextlib.suppress(ValueError):  # not there when no renewal ran
            core.writer.on_close.remove(core.partition_leases.drop_liveness_lock)
    await core.writer.close()
    if renewing is not None and not fenced:
        renewing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewing
        windows = None
        if settings.core_share == "fair":  # a clean stop hands its accounts' rate-limit windows over too
            windows = saving(leaving_windows(core, lambda _account: True, settings.core_partitions))
        await loop.run_in_executor(None, core.partition_leases.release, windows)  # type: ignore[union-attr]
        if settings.core_share == "fair":
            await loop.run_in_executor(None, forget, core.engine, settings.resolved_core_id)
    core.engine.dispose()
    log.info("core stopped")
    if fenced:
        raise SystemExit(3)
