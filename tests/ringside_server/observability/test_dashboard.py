"""The Grafana dashboard (deploy/grafana/ringside.json) only queries metrics Ringside exposes."""

from __future__ import annotations

import json
import pathlib
import re

from prometheus_client import CollectorRegistry

from ringside_server.observability.grpc_server import RpcMetrics
from ringside_server.observability.metrics import CoreMetrics, EdgeMetrics, WorkerMetrics

DASHBOARD = pathlib.Path(__file__).parents[3] / "deploy" / "grafana" / "ringside.json"


def exposed() -> set[str]:
    grpc = CollectorRegistry()
    RpcMetrics(grpc)
    registries = [EdgeMetrics.create().registry, CoreMetrics.create().registry, WorkerMetrics.create().registry, grpc]
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}
    return {
        family.name + suffix
        for registry in registries
        for family in registry.collect()
        for suffix in suffixes[family.type]
    }


def test_every_query_names_an_exposed_metric() -> None:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    queried = {
        name for panel in panels for target in panel["targets"] for name in re.findall(r"ringside_\w+", target["expr"])
    }
    assert len(panels) >= 10 and queried and queried <= exposed(), queried - exposed()
