"""`ringside status` (issue 21, item 4): each role's state, the versions, the database and its schema
revision, Temporal and the data dir — as JSON and as text — and it never creates a database."""

from __future__ import annotations

import json
import pathlib
from importlib.metadata import version

from core.store.migrate import head_revision
from tests.harness import Stack, free_port
from tests.ringside_cli.test_commands import ringside


def test_status_reports_roles_versions_database_temporal_and_data_dir(stack: Stack) -> None:
    temporal_port = free_port()  # nothing listens there
    env = {"RINGSIDE_TEMPORAL_PORT": str(temporal_port)}
    done = ringside(stack, "status", "--json", env=env)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["status"] == "ok" and report["roles"] == {"edge": "ready", "core": "ready"}
    assert report["version"] == version("ringside-server") == report["versions"]["ringside"]
    assert report["versions"]["temporalio"] == version("temporalio")
    database = report["database"]
    assert database["state"] == "reachable" and database["revision"] == database["code_revision"] == head_revision()
    assert database["url"].startswith("sqlite:///" if stack.backend == "sqlite" else "postgresql")
    assert report["temporal"] == {
        "address": f"127.0.0.1:{temporal_port}",
        "namespace": "default",
        "state": "unreachable",
    }
    assert report["data_dir"] == {"path": str(stack.data_dir.resolve()), "exists": True, "credentials": True}

    text = ringside(stack, "status", env=env).stdout
    for expected in (
        f"edge: {stack.base_url}/v1  status: ok (ringside {version('ringside-server')})",
        "  core: ready",
        f"database: {database['url']}  reachable  schema {head_revision()} (this code: {head_revision()})",
        f"temporal: 127.0.0.1:{temporal_port}  unreachable",
        f"data dir: {stack.data_dir.resolve()}  exists, credentials.json present",
    ):
        assert expected in text, text


def test_status_of_nothing_running_creates_nothing(stack: Stack, tmp_path: pathlib.Path) -> None:
    empty = tmp_path / "none"
    env = {"RINGSIDE_DATA_DIR": str(empty), "RINGSIDE_DATABASE_URL": ""}
    done = ringside(stack, "status", "--json", "--base-url", "http://127.0.0.1:9", env=env)
    report = json.loads(done.stdout)
    assert done.returncode == 1 and report["status"] == "unreachable"
    assert report["database"]["state"] == "absent" and report["data_dir"]["exists"] is False
    assert not empty.exists()
