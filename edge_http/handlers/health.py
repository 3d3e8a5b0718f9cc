"""GET /healthz: 200 only when every role this installation runs is ready (what `ringside up`'s
operators wait on). GET /livez: the process answers. GET /readyz: this edge may take traffic."""

from __future__ import annotations

from aiohttp import web

from edge_http.context import EDGE
from edge_http.openai.jsonio import dumps
from edge_http.readiness import READINESS
from ringside.core.v1 import system_pb2
from ringside_server.errors import RingsideError
from ringside_server.versions import distribution_version

HEARTBEAT_FRESH_S = 10.0
VERSION = distribution_version("ringside-server")


async def healthz(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    roles: dict[str, str] = {"edge": "ready"}
    try:
        status = await edge.core.internal(edge.core.system.GetStatus, system_pb2.GetStatusRequest(), timeout_s=2.0)
        roles["core"] = "ready"
        request.app[READINESS].core_reached = True
        for report in status.roles:
            if report.age_seconds <= HEARTBEAT_FRESH_S:
                roles[report.role] = "ready"
    except RingsideError:
        roles["core"] = "unreachable"
    missing = [role for role in edge.settings.required_roles if roles.get(role) != "ready"]
    body = {"status": "ok" if not missing else "starting", "roles": roles, "waiting_for": missing, "version": VERSION}
    return web.Response(status=200 if not missing else 503, body=dumps(body), content_type="application/json")


async def livez(_request: web.Request) -> web.Response:
    """The liveness probe: the event loop answers; nothing else is checked."""
    return web.Response(body=b'{"status":"alive"}', content_type="application/json")


async def readyz(request: web.Request) -> web.Response:
    """The readiness probe: 503 until a core has answered once, and from SIGTERM on."""
    readiness = request.app[READINESS]
    if readiness.draining:
        return _ready(False, "draining")
    if not readiness.core_reached:
        edge = request.app[EDGE]
        try:
            await edge.core.internal(edge.core.system.GetStatus, system_pb2.GetStatusRequest(), timeout_s=1.0)
        except RingsideError:
            return _ready(False, "core_unreachable")
        readiness.core_reached = True
    return _ready(True, "ready")


def _ready(ready: bool, status: str) -> web.Response:
    return web.Response(status=200 if ready else 503, body=dumps({"status": status}), content_type="application/json")
