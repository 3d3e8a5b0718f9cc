"""Every metric Ringside exposes, by role, with prometheus_client (names, types and labels are
listed in docs/observability.md).

Each role builds its metrics once at its entry point, in a registry of its own (tests run several
roles in one process). When the edge runs as several processes sharing `PROMETHEUS_MULTIPROC_DIR`,
prometheus_client keeps each process's values in that directory and `exposition` adds them up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
)

MULTIPROC_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
# Seconds: from a fast local call to a long generation.
LATENCY_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
# Ringside's own share of a call: far smaller than the provider's.
ADDED_BUCKETS_S = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
MAX_CACHED_CHILDREN = 100_000
BATCH_BUCKETS = (1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2000, 5000)
__all__ = ["CONTENT_TYPE_LATEST", "CoreMetrics", "EdgeMetrics", "WorkerMetrics", "exposition"]


def exposition(registry: CollectorRegistry, multiproc_dir: str | None) -> bytes:
    """The text format of `registry`, or of every process writing to `multiproc_dir`."""
    if multiproc_dir:
        aggregated = CollectorRegistry()
        multiprocess.MultiProcessCollector(aggregated, path=multiproc_dir)
        return bytes(generate_latest(aggregated))
    return bytes(generate_latest(registry))


@dataclass(frozen=True, slots=True)
class EdgeMetrics:
    """A metered call's figures and every HTTP request's outcome (the edge, and any role that meters)."""

    registry: CollectorRegistry
    customer_label: bool
    requests: Counter
    duration: Histogram
    added: Histogram
    first_byte: Histogram
    upstream_duration: Histogram
    upstream_attempts: Counter
    tokens: Counter
    cost: Counter
    billable: Counter
    admissions: Counter
    refusals: Counter
    request_log_dropped: Counter
    # (metric, label values) → its child: `labels()` validates and locks on every call, ~11 per
    # metered request; a child, once made, lives as long as its metric anyway.
    children: dict[tuple[Any, ...], Any] = field(default_factory=dict)

    def child(self, metric: Any, *values: str) -> Any:
        """`metric.labels(*values)`, looked up once per label set."""
        key = (id(metric), *values)
        found = self.children.get(key)
        if found is None:
            if len(self.children) >= MAX_CACHED_CHILDREN:
                self.children.clear()  # bound: it is only a cache of what the metrics hold
            found = self.children[key] = metric.labels(*values)
        return found

    @classmethod
    def create(cls, customer_label: bool = False) -> EdgeMetrics:
        registry = CollectorRegistry(auto_describe=True)
        per_model = ("model", "customer") if customer_label else ("model",)
        return cls(
            registry=registry,
            customer_label=customer_label,
            requests=Counter(
                "ringside_http_requests",
                "HTTP requests answered, by route template, method, exact status and error code.",
                ("route", "method", "status", "code"),
                registry=registry,
            ),
            duration=Histogram(
                "ringside_http_request_duration_seconds",
                "Whole request, first byte in to last byte out (a stream's whole life).",
                ("route",),
                buckets=LATENCY_BUCKETS_S,
                registry=registry,
            ),
            added=Histogram(
                "ringside_http_added_latency_seconds",
                "A metered call's duration less the time spent waiting on the provider.",
                ("route",),
                buckets=ADDED_BUCKETS_S,
                registry=registry,
            ),
            first_byte=Histogram(
                "ringside_http_time_to_first_byte_seconds",
                "A metered call's time until its first body byte was written to the client.",
                ("route",),
                buckets=LATENCY_BUCKETS_S,
                registry=registry,
            ),
            upstream_duration=Histogram(
                "ringside_upstream_duration_seconds",
                "One attempt at a provider: sent until its answer (or stream) ended.",
                ("provider", "model"),
                buckets=LATENCY_BUCKETS_S,
                registry=registry,
            ),
            upstream_attempts=Counter(
                "ringside_upstream_attempts",
                "Attempts at a provider by how they were settled: completed, aborted, failed.",
                ("provider", "model", "outcome"),
                registry=registry,
            ),
            tokens=Counter(
                "ringside_tokens",
                "Tokens of settled calls, by model and direction (input, output).",
                (*per_model, "direction"),
                registry=registry,
            ),
            cost=Counter(
                "ringside_cost_nano_usd", "Provider cost of settled calls, nano-USD.", per_model, registry=registry
            ),
            billable=Counter(
                "ringside_billable_nano_usd",
                "Billable amount (cost with markup) of settled calls, nano-USD.",
                per_model,
                registry=registry,
            ),
            admissions=Counter(
                "ringside_admissions",
                "Calls admitted, by path: lease (the edge's fast path) or core (a per-call hold).",
                ("path",),
                registry=registry,
            ),
            refusals=Counter(
                "ringside_refusals",
                "Calls refused at admission, by reason (the error code: budget, wallet, rate-limit layer, …).",
                ("reason",),
                registry=registry,
            ),
            request_log_dropped=Counter(
                "ringside_request_log_dropped",
                "Request-log entries never recorded, by reason: unanswered (no core answered them through "
                "every resend), refused (a core refused the batch), full (too many waiting), shutdown.",
                ("reason",),
                registry=registry,
            ),
        )

    def settled(
        self, provider: str, model: str, outcome: str, tokens: tuple[int, int], spend: tuple[int, int], customer: str
    ) -> None:
        """One attempt's settle: its outcome, tokens (input, output) and spend (cost, billable)."""
        self.child(self.upstream_attempts, provider, model, outcome).inc()
        key = (model, customer) if self.customer_label else (model,)
        self.child(self.tokens, *key, "input").inc(tokens[0])
        self.child(self.tokens, *key, "output").inc(tokens[1])
        self.child(self.cost, *key).inc(spend[0])
        self.child(self.billable, *key).inc(spend[1])


@dataclass(frozen=True, slots=True)
class CoreMetrics:
    """The core's writer, holds and leases, and its outbox."""

    registry: CollectorRegistry
    open_holds: Gauge
    commit_units: Histogram
    commit_duration: Histogram
    commit_failures: Counter
    leases_granted: Counter
    holds_expired: Counter
    outbox_lag: Histogram

    @classmethod
    def create(cls) -> CoreMetrics:
        registry = CollectorRegistry(auto_describe=True)
        return cls(
            registry=registry,
            open_holds=Gauge(
                "ringside_core_open_holds", "Holds open now, by kind: call or lease.", ("kind",), registry=registry
            ),
            commit_units=Histogram(
                "ringside_core_commit_batch_units",
                "Writes that shared one group commit.",
                buckets=BATCH_BUCKETS,
                registry=registry,
            ),
            commit_duration=Histogram(
                "ringside_core_commit_duration_seconds",
                "One group commit's transaction.",
                buckets=ADDED_BUCKETS_S,
                registry=registry,
            ),
            commit_failures=Counter(
                "ringside_core_commit_failures", "Group commits that failed (retried one by one).", registry=registry
            ),
            leases_granted=Counter("ringside_core_leases_granted", "Leases granted to edges.", registry=registry),
            holds_expired=Counter(
                "ringside_core_holds_expired",
                "Holds posted at their reserved amount because they expired, by kind: call or lease.",
                ("kind",),
                registry=registry,
            ),
            outbox_lag=Histogram(
                "ringside_core_outbox_lag_seconds",
                "From an event's creation to the worker's claim of its outbox entry.",
                buckets=LATENCY_BUCKETS_S,
                registry=registry,
            ),
        )

    def committed(self, units: int, seconds: float) -> None:
        """The group-commit writer's report: a commit of `units` took `seconds` (-1: it failed)."""
        if seconds < 0:
            self.commit_failures.inc()
            return
        self.commit_units.observe(units)
        self.commit_duration.observe(seconds)


@dataclass(frozen=True, slots=True)
class WorkerMetrics:
    """Temporal activities and webhook deliveries."""

    registry: CollectorRegistry
    activities: Counter
    activity_duration: Histogram
    webhook_deliveries: Counter

    @classmethod
    def create(cls) -> WorkerMetrics:
        registry = CollectorRegistry(auto_describe=True)
        return cls(
            registry=registry,
            activities=Counter(
                "ringside_worker_activities",
                "Temporal activity executions by activity and outcome: completed, failed, cancelled.",
                ("activity", "outcome"),
                registry=registry,
            ),
            activity_duration=Histogram(
                "ringside_worker_activity_duration_seconds",
                "One activity execution.",
                ("activity",),
                buckets=LATENCY_BUCKETS_S,
                registry=registry,
            ),
            webhook_deliveries=Counter(
                "ringside_webhook_deliveries",
                "Webhook delivery attempts by outcome: delivered, failed (retried), stopped (endpoint gone).",
                ("outcome",),
                registry=registry,
            ),
        )


def serve_metrics(registry: CollectorRegistry, host: str, port: int) -> None:
    """The core's, worker's and rag's metrics port: prometheus_client's own server (a thread)."""
    start_http_server(port, addr=host, registry=registry)
