"""`ringside status`: each role's state (the edge's /healthz), the versions, the database and its
schema, Temporal and the data dir — what an operator checks first, without a key."""

from __future__ import annotations

import platform
import shutil
import socket
import subprocess
import sys
from typing import Any

from ringside_cli.api import read_health
from ringside_server.settings import CREDENTIALS_FILE, Settings
from ringside_server.versions import distribution_version

CONNECT_TIMEOUT_S = 2.0


def temporal_cli_version() -> str:
    """The `temporal` CLI beside this interpreter (what `ringside up` starts), if any."""
    found = shutil.which("temporal", path=f"{sys.prefix}/bin")
    if found is None:
        return "not installed"
    try:
        done = subprocess.run([found, "--version"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "does not run"
    return done.stdout.strip().removeprefix("temporal version ") or "unknown"


def database(settings: Settings) -> dict[str, Any]:
    """Where the data is and the schema revision it is at (this code's newest beside it)."""
    from sqlalchemy.exc import SQLAlchemyError

    from core.store.engine import make_engine
    from core.store.migrate import current_revision, head_revision

    url = settings.resolved_database_url
    report: dict[str, Any] = {"code_revision": head_revision()}
    if not settings.database_url and not (settings.data_dir / "ringside.db").exists():  # never create it
        return {**report, "url": url, "state": "absent"}
    engine = make_engine(url)
    report["url"] = engine.url.render_as_string(hide_password=True)
    try:
        report["revision"] = current_revision(engine)
        report["state"] = "reachable"
    except (SQLAlchemyError, OSError) as error:
        report["state"] = f"unreachable ({type(error).__name__})"
    finally:
        engine.dispose()
    return report


def temporal(settings: Settings) -> dict[str, Any]:
    address = settings.resolved_temporal_address
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S):
            state = "reachable"
    except (OSError, ValueError):
        state = "unreachable"
    return {"address": address, "namespace": settings.temporal_namespace, "state": state}


def gather(settings: Settings, base_url: str) -> dict[str, Any]:
    health = read_health(base_url)
    data_dir = settings.data_dir.resolve()
    return {
        "base_url": base_url,
        **health,
        "versions": {
            "ringside": distribution_version("ringside-server"),
            "python": platform.python_version(),
            "temporalio": distribution_version("temporalio"),
            "temporal_cli": temporal_cli_version(),
        },
        "database": database(settings),
        "temporal": temporal(settings),
        "data_dir": {
            "path": str(data_dir),
            "exists": data_dir.is_dir(),
            "credentials": (data_dir / CREDENTIALS_FILE).is_file(),
        },
    }


def lines(report: dict[str, Any]) -> list[str]:
    """The report for a terminal."""
    edge_version = f" (ringside {report['version']})" if report.get("version") else ""
    out = [f"edge: {report['base_url']}/v1  status: {report.get('status')}{edge_version}"]
    out += [f"  {role}: {state}" for role, state in (report.get("roles") or {}).items()]
    if report.get("waiting_for"):
        out.append(f"  waiting for: {', '.join(report['waiting_for'])}")
    if report.get("detail"):
        out.append(f"  {report['detail']}")
    out.append("versions: " + ", ".join(f"{name} {found}" for name, found in report["versions"].items()))
    db = report["database"]
    revision = f"schema {db.get('revision') or '-'} (this code: {db['code_revision']})"
    out.append(f"database: {db['url']}  {db['state']}  {revision}")
    tmp = report["temporal"]
    out.append(f"temporal: {tmp['address']}  {tmp['state']}  (namespace {tmp['namespace']})")
    data = report["data_dir"]
    keys = "credentials.json present" if data["credentials"] else "no credentials.json"
    out.append(f"data dir: {data['path']}  {'exists' if data['exists'] else 'absent'}, {keys}")
    return out
