"""deploy/helm/ringside rendered by Helm's own engine (helm-python-sdk binds Helm v4's Go SDK; no
helm binary installs here), every manifest validated against Kubernetes' schemas (strict: an unknown
field fails), and the properties the design asks of it (DECISIONS.md 25) read off the output."""

from __future__ import annotations

import pathlib
from typing import Any

import helm_python as helm
import kubernetes_validate
import pytest
import yaml

from ringside_server.settings import Settings

CHART = pathlib.Path(__file__).resolve().parents[2] / "deploy" / "helm" / "ringside"
KUBERNETES_VERSION = "1.30.0"
SECRETS = {
    "RINGSIDE_DATABASE_URL": "postgresql://ringside:pw@postgres:5432/ringside",
    "RINGSIDE_INTERNAL_TOKEN": "rsint_" + "t" * 32,
    "RINGSIDE_SECRET_KEY": "rssk_" + "s" * 32,
    "RINGSIDE_ADMIN_KEY": "fc_admin_" + "a" * 32,
}


def render(**values: Any) -> list[dict[str, Any]]:
    with helm.Chart.load(CHART) as chart:
        rendered = chart.render({"secrets": SECRETS, **values}, name="prod", namespace="ringside")
    return [doc for text in rendered.values() for doc in yaml.safe_load_all(text) if doc]


def by_kind(manifests: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for doc in manifests if doc["kind"] == kind}


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return dict(containers[0])


def test_the_chart_lints_clean_and_every_manifest_is_valid_kubernetes() -> None:
    assert helm.lint(str(CHART))["errors"] == []
    manifests = render(extraWorkers=[{"name": "webhooks", "families": "webhooks", "replicas": 3}])
    for manifest in manifests:
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
    kinds = sorted((doc["kind"], doc["metadata"]["name"]) for doc in manifests)
    assert kinds == [
        ("Deployment", "prod-ringside-core"),
        ("Deployment", "prod-ringside-edge"),
        ("Deployment", "prod-ringside-rag"),
        ("Deployment", "prod-ringside-worker"),
        ("Deployment", "prod-ringside-worker-webhooks"),
        ("HorizontalPodAutoscaler", "prod-ringside-edge"),
        ("PersistentVolumeClaim", "prod-ringside-files"),
        ("PodDisruptionBudget", "prod-ringside-edge"),
        ("Secret", "prod-ringside-secrets"),
        ("Service", "prod-ringside-core"),
        ("Service", "prod-ringside-edge"),
        ("Service", "prod-ringside-rag"),
    ]


def test_a_broken_manifest_is_caught_by_the_validation() -> None:
    edge = by_kind(render(), "Deployment")["prod-ringside-edge"]
    edge["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGet"]["pathh"] = "/livez"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(edge, KUBERNETES_VERSION, strict=True)


def test_probes_drain_and_disruption() -> None:
    manifests = render(drainTimeoutS=120, readinessGraceS=10)
    deployments = by_kind(manifests, "Deployment")
    edge = container(deployments["prod-ringside-edge"])
    assert edge["livenessProbe"]["httpGet"]["path"] == "/livez"
    assert edge["readinessProbe"]["httpGet"]["path"] == "/readyz"
    rag = container(deployments["prod-ringside-rag"])
    assert rag["livenessProbe"]["grpc"]["port"] == rag["readinessProbe"]["grpc"]["port"] == 50053
    core = container(deployments["prod-ringside-core"])  # a waiting core is alive, and ready only once it owns
    assert core["readinessProbe"]["grpc"]["port"] == 50051 and core["livenessProbe"]["httpGet"]["port"] == "metrics"
    for name, deployment in deployments.items():
        spec = deployment["spec"]["template"]["spec"]
        env = {item["name"]: item.get("value") for item in container(deployment)["env"]}
        assert env["RINGSIDE_DRAIN_TIMEOUT_S"] == "120", name
        # The pod outlives the edge's readiness grace and its drain (DECISIONS.md 25).
        assert spec["terminationGracePeriodSeconds"] > 120 + 10, name
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert container(deployment)["envFrom"] == [{"secretRef": {"name": "prod-ringside-secrets"}}], name
    hpa = by_kind(manifests, "HorizontalPodAutoscaler")["prod-ringside-edge"]
    assert hpa["spec"]["scaleTargetRef"]["name"] == "prod-ringside-edge"
    pdb = by_kind(manifests, "PodDisruptionBudget")["prod-ringside-edge"]
    assert (
        pdb["spec"]["selector"]["matchLabels"] == deployments["prod-ringside-edge"]["spec"]["selector"]["matchLabels"]
    )
    core = deployments["prod-ringside-core"]["spec"]
    # two active cores (fenced partition leases, `fair`); liveness on the metrics port, open from
    # the start, readiness on gRPC health, served once a core's share is claimed
    assert core["replicas"] == 2 and core["strategy"] == {"type": "Recreate"}
    assert core["template"]["spec"]["initContainers"][0]["args"] == ["migrate"]
    core_container = container(deployments["prod-ringside-core"])
    assert core_container["livenessProbe"]["httpGet"]["port"] == "metrics"
    assert "grpc" in core_container["readinessProbe"] and "startupProbe" not in core_container
    env = {entry["name"]: entry for entry in core_container["env"]}
    assert env["RINGSIDE_CORE_ID"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    # each advertises its pod's own address (the partition map), the pod IP declared before it
    assert env["POD_IP"]["valueFrom"]["fieldRef"]["fieldPath"] == "status.podIP"
    assert env["RINGSIDE_CORE_ADVERTISE_ADDRESS"]["value"] == "$(POD_IP):50051"
    # the takeover's knobs are in values.yaml, at the settings' defaults
    for name in ("core_lease_ttl_s", "core_window_checkpoint_s"):
        assert float(env[f"RINGSIDE_{name.upper()}"]["value"]) == Settings.model_fields[name].default
    names = [entry["name"] for entry in core_container["env"]]
    assert names.index("POD_IP") < names.index("RINGSIDE_CORE_ADVERTISE_ADDRESS")


def test_at_least_one_core_and_secrets_are_required() -> None:
    with pytest.raises(helm.HelmError, match=r"core\.replicas must be at least 1"):
        render(core={"replicas": 0})
    with pytest.raises(helm.HelmError, match="RINGSIDE_SECRET_KEY is required"):
        render(secrets={**SECRETS, "RINGSIDE_SECRET_KEY": ""})
    managed = render(existingSecret="ringside-managed", secrets={})
    assert by_kind(managed, "Secret") == {}
    edge = by_kind(managed, "Deployment")["prod-ringside-edge"]
    assert container(edge)["envFrom"] == [{"secretRef": {"name": "ringside-managed"}}]


def test_every_setting_the_chart_sets_is_one_ringside_reads() -> None:
    known = {f"RINGSIDE_{name.upper()}" for name in Settings.model_fields}
    manifests = render()
    named = {
        item["name"]
        for deployment in by_kind(manifests, "Deployment").values()
        for item in container(deployment)["env"]
        if item["name"].startswith("RINGSIDE_")
    }
    named |= {name for name in by_kind(manifests, "Secret")["prod-ringside-secrets"]["stringData"]}
    assert named - known == set()
