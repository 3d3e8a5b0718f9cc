"""The one Settings object: every `RINGSIDE_*` variable (and the providers' own SDK variables).

Read once at an entry point (`ringside_cli.cli`) and passed down; nothing else reads the environment.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import pathlib
import secrets
import socket
import time

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ringside_server.netpolicy import parse_networks

INTERNAL_TOKEN_FILE = "internal_token"
SECRET_KEY_FILE = "secret_key"
CREDENTIALS_FILE = "credentials.json"
PARSE_CACHE_DIR = "rag/parses"  # the rag role's cached parses (DATA_DIR/rag/parses/<xx>/<sha256><suffix>.txt)
# Left in the parse cache by `ringside restore`: the rag role rebuilds the index from the cached
# parses at its next start (workers/rag_ingest/rebuild.py), then removes it.
REBUILD_MARKER = "rebuild-index"


class Settings(BaseSettings):
    """Configuration of every role. Field `x` is read from `RINGSIDE_X` unless it says otherwise."""

    model_config = SettingsConfigDict(env_prefix="RINGSIDE_", extra="ignore", populate_by_name=True)

    data_dir: pathlib.Path = pathlib.Path(".ringside")
    bind_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=0, le=65535)
    # How many edge processes `ringside up` runs, all on http_port (SO_REUSEPORT: the kernel spreads
    # new connections over them), for machines with more cores than one edge process can use
    # (docs/scaling.md "Several edge processes on one machine"). 1: one edge, its port its own.
    edge_workers: int = Field(default=1, ge=1, le=64)
    grpc_port: int = Field(default=50051, ge=0, le=65535)
    temporal_port: int = Field(default=7233, ge=1, le=64535)
    # Temporal: unset address = the embedded dev server `ringside up` starts; else any cluster. TLS
    # (on by itself with client certificates, a CA file or an API key), mTLS files, Temporal Cloud's
    # API key (ringside_server/temporal_connection.py, docs/scaling.md).
    temporal_address: str | None = None
    temporal_namespace: str = Field(default="default", min_length=1, max_length=255)
    temporal_tls: bool = False
    temporal_tls_ca_file: pathlib.Path | None = None
    temporal_tls_cert_file: pathlib.Path | None = None
    temporal_tls_key_file: pathlib.Path | None = None
    temporal_tls_server_name: str | None = Field(default=None, max_length=253)
    temporal_api_key: str | None = Field(default=None, max_length=10_000, repr=False)
    # The workflow families this worker process polls (comma-separated; workers/task_queues.py):
    # each family has its own task queue, so each can run on its own number of workers.
    worker_families: str = Field(default="webhooks,billing,maintenance,batches,runs", max_length=200)
    core_address: str | None = None
    # The rag role (issue 16): its gRPC port, or the address of one run elsewhere; a Qdrant server
    # instead of the embedded index (then several rag processes may run).
    rag_port: int = Field(default=50053, ge=0, le=65535)
    rag_address: str | None = None
    qdrant_url: str | None = Field(default=None, max_length=500)
    # A Qdrant cluster: its API key (TLS: an https:// URL), and how a new collection is laid out:
    # shards across the cluster's nodes, copies of each shard, and how many copies must take a write.
    qdrant_api_key: str | None = Field(default=None, max_length=10_000, repr=False)
    qdrant_shards: int = Field(default=1, ge=1, le=1000)
    qdrant_replication_factor: int = Field(default=1, ge=1, le=100)
    qdrant_write_consistency_factor: int = Field(default=1, ge=1, le=100)
    rag_threads: int = Field(default=2, ge=1, le=64)
    # The rag role's sweep (workers/rag_ingest/sweep.py): how often it removes the bytes, indexes and
    # cached parses of deleted (or erased) files and stores, and uploads cut off mid-stream (their
    # `.partial` files once untouched for rag_partial_upload_ttl_s). A stored file no live row names
    # is left alone for rag_sweep_grace_s: its upload's metadata may still be on its way to the core.
    rag_sweep_interval_s: float = Field(default=300.0, ge=0.2, le=86_400)
    rag_partial_upload_ttl_s: int = Field(default=3600, ge=1, le=7 * 86_400)
    rag_sweep_grace_s: int = Field(default=60, ge=1, le=86_400)
    # The optimize policy (rag/optimize.py): how often the rag role looks for an embedded index whose
    # unindexed points (searched by brute force) number at least rag_optimize_min_points and have
    # stopped growing, and builds its HNSW graph off the request path (0: never).
    rag_optimize_interval_s: float = Field(default=60.0, ge=0, le=86_400)
    rag_optimize_min_points: int = Field(default=10_000, ge=1, le=1_000_000_000)
    # A vector store's embedding_model when its create names none (API.md "Managed RAG").
    rag_embedding_model: str = Field(default="fc:local/all-minilm-l6-v2", min_length=1, max_length=300)
    # An ingest in progress with no progress (no batch embedded) for this long shows `stalled` (issue 17).
    rag_ingest_stall_s: int = Field(default=600, ge=1, le=7 * 86_400)
    # Images and audio in vector stores are read through these model refs (issue 17); unset: refused.
    rag_vision_model: str = Field(default="", max_length=300)
    rag_transcription_model: str = Field(default="", max_length=300)
    # Where uploaded files' bytes live (ringside_server/file_store.py): unset, DATA_DIR/files (one
    # node, or a shared volume); `s3://bucket/prefix`, an S3-compatible bucket every node shares. The
    # endpoint (for a non-AWS store), region and key pair; unset keys: boto3's own chain (AWS_*, a role).
    files_url: str | None = Field(
        default=None, max_length=500, pattern=r"^s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9](/.*)?$"
    )
    files_s3_endpoint_url: str | None = Field(default=None, max_length=500)
    files_s3_region: str | None = Field(default=None, max_length=100)
    files_s3_access_key_id: str | None = Field(default=None, max_length=200)
    files_s3_secret_access_key: SecretStr | None = Field(default=None, max_length=500)
    files_s3_addressing_style: str = Field(default="auto", pattern="^(auto|path|virtual)$")
    # POST /v1/files: the largest upload (413 above), streamed to the file store, never held whole.
    max_file_bytes: int = Field(default=512 * 1024 * 1024, ge=1, le=1 << 40)
    # A `purpose=batch` upload's bound (API.md "Bodies": 200 MiB, 413 above).
    max_batch_file_bytes: int = Field(default=200 * 1024 * 1024, ge=1, le=1 << 40)
    # How many lines of one batch the worker runs at once (each a metered call of the batch's key).
    batch_concurrency: int = Field(default=4, ge=1, le=256)
    # How often a batch forwarded to a provider's batch API is polled, in seconds (a durable timer).
    batch_poll_s: float = Field(default=30.0, ge=0.05, le=3600)
    # How long a batch's completion window (`24h`, the only one OpenAI offers) lasts, in seconds:
    # shorter only for drills and tests of expiry (the core sets `expires_at` from it at create).
    batch_window_s: int = Field(default=86_400, ge=1, le=86_400)
    database_url: str | None = None
    admin_key: str | None = None
    internal_token: str | None = None
    # Seals secrets at rest (webhook secrets, Stripe keys, signing keys); unset: the data dir's
    # secret_key file, made once. To rotate: the new key here, the old in secret_key_previous
    # (comma-separated) until a core has started once with both (docs/security.md).
    secret_key: str | None = Field(default=None, repr=False)
    secret_key_previous: str = Field(default="", repr=False)
    hold_ttl_s: int = Field(default=900, ge=5, le=86_400)
    # Core partitions on PostgreSQL (core/store/partition_leases.py, docs/scaling.md): accounts are
    # hashed into core_partitions (the same for every core of a database); a core holds its
    # partitions by lease rows it renews every core_lease_ttl_s / 4, and a dead core's lapse after
    # core_lease_ttl_s. core_id names this core in them (default: host name and data dir, so a
    # restarted core takes its own partitions back at once).
    core_partitions: int = Field(default=256, ge=1, le=65_536)
    core_lease_ttl_s: float = Field(default=5.0, ge=1, le=300)
    core_id: str | None = Field(default=None, min_length=1, max_length=200)
    # How the partitions spread over the cores of a PostgreSQL database (docs/scaling.md; SQLite has
    # one core): `fair` (the default) — every live core claims its share and serves it, the clients
    # routing each call to its account's owner; `all` — one core claims every partition and serves,
    # the others wait as standbys.
    core_share: str = Field(default="fair", pattern="^(all|fair)$")
    # The address the edges reach this core at (the partition map; `fair` only); default the listen address.
    core_advertise_address: str | None = Field(default=None, min_length=1, max_length=300)
    # How often a `fair` core checkpoints its partitions' rate-limit windows (the changed ones) for
    # the core that takes them over if it dies or freezes: the most a takeover forgets is the
    # admissions of one interval (docs/scaling.md).
    core_window_checkpoint_s: float = Field(default=1.0, ge=0.1, le=60)
    # Group commit: how many writes may share one transaction, and how long the writer lingers
    # for more once it has some (0 = commit whatever is queued right away).
    commit_batch_max: int = Field(default=2000, ge=1, le=100_000)
    commit_linger_ms: float = Field(default=0.0, ge=0, le=50)
    # SQLite durability: FULL survives power loss; NORMAL survives a process crash only.
    sqlite_synchronous: str = Field(default="FULL", pattern="^(FULL|NORMAL|EXTRA)$")
    # The fast path: edges admit calls against leases (see ringside_server/metering/leases.py); off = every call
    # is authorized and settled by the core one by one (the reference path).
    leases: bool = True
    lease_window_s: float = Field(default=1.0, gt=0, le=10)
    # Rate limits (API.md "Rate limits"), requests per minute over a sliding 60 s; 0 turns a layer off.
    # Customers' own rpm/tpm come from the customer, its tier or the account's default tier.
    rate_limit_ip_per_min: int = Field(default=10_000, ge=0, le=1_000_000_000)
    rate_limit_client_token_per_min: int = Field(default=600, ge=0, le=1_000_000_000)
    rate_limit_account_per_min: int = Field(default=60_000, ge=0, le=1_000_000_000)
    # The sliding window those "per minute" counts span: 60 s, as API.md says. Only tests shorten it
    # (to see a window slide and Retry-After come true without waiting a minute).
    rate_limit_window_s: float = Field(default=60.0, ge=1, le=60)
    # Reverse proxies (comma-separated CIDRs) whose X-Forwarded-For is believed: when the socket's
    # peer is one, the client IP is the last X-Forwarded-For address that is not itself a trusted proxy.
    trusted_proxies: str = Field(default="", max_length=10_000)
    # Hostile input (API.md "Bodies", issue 15). Request body bounds per route class; above one, 413.
    body_max_bytes: int = Field(default=1 << 20, ge=1024, le=1 << 30)
    body_max_model_bytes: int = Field(default=32 << 20, ge=1024, le=1 << 30)
    # Reading a request, never answering it: the headers must arrive within header_read_timeout_s of
    # the connection opening (or of the previous answer plus keepalive_timeout_s), a body within
    # body_read_timeout_s of its headers. Neither applies to a streamed answer or a slow upstream.
    header_read_timeout_s: float = Field(default=10.0, gt=0, le=600)
    body_read_timeout_s: float = Field(default=60.0, gt=0, le=3600)
    keepalive_timeout_s: float = Field(default=75.0, gt=0, le=3600)
    # Open connections an edge process keeps, in all and per client IP (the socket's peer);
    # past either, a new connection is closed as it opens.
    max_connections: int = Field(default=10_000, ge=1, le=1_000_000)
    max_connections_per_ip: int = Field(default=2_000, ge=1, le=1_000_000)
    upstream_timeout_s: float = Field(default=600.0, gt=0, le=3600)
    upstream_connect_timeout_s: float = Field(default=10.0, gt=0, le=300)
    # Roles whose readiness /healthz requires (set by `ringside up` to the roles it started).
    health_roles: str = "core,edge"
    drain_timeout_s: float = Field(default=30.0, ge=0, le=600)
    # After SIGTERM an edge keeps serving this long with /readyz at 503, so a load balancer stops
    # sending it calls before it stops accepting them (0 on one machine: no balancer to tell).
    readiness_grace_s: float = Field(default=0.0, ge=0, le=120)
    # Retention (core/domain/retention.py, docs/operations.md): purged by the `ringside-retention`
    # schedule every retention_interval_s. Events ≥ 33 days: a restarting core reads 32 back.
    retention_events_days: int = Field(default=35, ge=33, le=36_500)
    retention_delivery_attempts_days: int = Field(default=30, ge=1, le=36_500)
    retention_outbox_days: int = Field(default=7, ge=1, le=36_500)
    retention_idempotency_hours: int = Field(default=48, ge=24, le=876_000)
    retention_responses_days: int = Field(default=30, ge=1, le=36_500)
    # Assistants API objects (assistants, threads, messages, runs), by creation: OpenAI keeps threads 60 days
    retention_assistants_days: int = Field(default=60, ge=1, le=36_500)
    retention_rag_queries_days: int = Field(default=30, ge=1, le=36_500)  # vector store query logs
    # Usage records and request log rows (one per call); their sums stay in the daily aggregates.
    # ≥ 40: the ledger audit and a restarting core's late-settle lookups read 40 days of records.
    retention_requests_days: int = Field(default=90, ge=40, le=36_500)
    retention_interval_s: int = Field(default=3600, ge=60, le=7 * 86_400)
    # Webhooks: CIDRs deliveries may reach although loopback/private/reserved (comma-separated;
    # empty = none), e.g. "127.0.0.1/32" for a receiver on this machine.
    webhook_allowed_networks: str = Field(default="", max_length=4000)
    # How long the worker's relay waits on the core for new outbox entries per poll.
    webhook_relay_wait_ms: int = Field(default=5000, ge=0, le=30_000)
    # Billing: Stripe's API base (point it at a Stripe-compatible proxy, or a fake in tests), and how
    # often the schedules close ended periods and push usage to Stripe.
    stripe_api_base: str = Field(default="https://api.stripe.com", max_length=500, pattern="^https?://")
    stripe_sync_interval_s: int = Field(default=3600, ge=60, le=86_400)
    rollover_interval_s: int = Field(default=3600, ge=60, le=86_400)
    log_level: str = "INFO"
    # Observability (docs/observability.md): `json` = one JSON object per log line, every role's.
    log_format: str = Field(default="text", pattern="^(text|json)$")
    # GET /metrics on the edge needs no key unless this is set (then `Authorization: Bearer <it>`).
    metrics_token: str | None = Field(default=None, min_length=16, max_length=500)
    # A customer id label on the per-model metrics: only for small fleets (one series per customer).
    metrics_customer_label: bool = False
    # The other roles' Prometheus ports (0 = none).
    core_metrics_port: int = Field(default=0, ge=0, le=65535)
    worker_metrics_port: int = Field(default=0, ge=0, le=65535)
    rag_metrics_port: int = Field(default=0, ge=0, le=65535)

    # Slot calls skip a provider for breaker_cooldown_s after breaker_failures attempts in a row failed.
    breaker_failures: int = Field(default=5, ge=1, le=1000)
    breaker_cooldown_s: float = Field(default=30.0, ge=0, le=3600)
    # Operator's providers and models on top of the shipped catalog (API.md "Model calls").
    providers_file: pathlib.Path | None = None
    # Model providers are configured by their own SDKs' variables (OPENAI_API_KEY, ANTHROPIC_API_KEY,
    # …, and the key_env names of the providers file): the environment is read for them here, once.
    environment: dict[str, str] = Field(
        default_factory=lambda: {k: v for k, v in os.environ.items() if not k.startswith("RINGSIDE_")},
        validation_alias=AliasChoices("RINGSIDE_ENVIRONMENT_UNUSED"),
        repr=False,
    )

    @field_validator("webhook_allowed_networks", "trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        parse_networks(value)  # a bad CIDR stops the start with its name
        return value

    @property
    def resolved_core_address(self) -> str:
        return self.core_address or f"{self.bind_host}:{self.grpc_port}"

    @property
    def resolved_rag_address(self) -> str:
        return self.rag_address or f"{self.bind_host}:{self.rag_port}"

    @property
    def resolved_temporal_address(self) -> str:
        return self.temporal_address or f"{self.bind_host}:{self.temporal_port}"

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'ringside.db').resolve()}"

    @property
    def trusted_proxy_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return parse_networks(self.trusted_proxies)

    @property
    def required_roles(self) -> list[str]:
        return [role.strip() for role in self.health_roles.split(",") if role.strip()]

    @property
    def resolved_core_id(self) -> str:
        return self.core_id or f"{socket.gethostname()}:{self.data_dir.resolve()}"[:200]

    def ensure_data_dir(self) -> pathlib.Path:
        """The data dir, private to its owner (0700) even when it was made before."""
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        with contextlib.suppress(OSError):  # a mount the operator owns may refuse; the files stay 0600
            self.data_dir.chmod(0o700)
        return self.data_dir

    def resolve_internal_token(self) -> str:
        """The edge/worker → core token: the setting, else the data dir's file (created once, by
        whichever role gets there first; the others read it)."""
        if self.internal_token is not None:
            if len(self.internal_token) < 16:
                raise ValueError("RINGSIDE_INTERNAL_TOKEN must be at least 16 characters")
            return self.internal_token
        return self._data_dir_secret(INTERNAL_TOKEN_FILE, "rsint_")

    def resolve_secret_keys(self) -> list[str]:
        """The keys secrets at rest are sealed with (core/store/sealing.py): the current one first
        (the setting, else the data dir's file, made once), then the retired ones that still open."""
        current = self.secret_key if self.secret_key is not None else self._data_dir_secret(SECRET_KEY_FILE, "rssk_")
        if len(current) < 16:
            raise ValueError("RINGSIDE_SECRET_KEY must be at least 16 characters")
        return [current, *(key.strip() for key in self.secret_key_previous.split(",") if key.strip())]

    def _data_dir_secret(self, name: str, prefix: str) -> str:
        path = self.ensure_data_dir() / name
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(prefix + secrets.token_urlsafe(32))
        for _ in range(50):  # another role may be writing it this instant
            token = path.read_text().strip()
            if len(token) >= 16:
                return token
            time.sleep(0.02)
        raise ValueError(f"{path} holds no usable token; delete it to have a new one made")
