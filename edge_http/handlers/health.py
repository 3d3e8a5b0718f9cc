"""GET /healthz: 200 only when every role this installation runs is ready."""

from __future__ import annotations

from aiohttp import web

from edge_http.context import EDGE
from edge_http.openai.jsonio import dumps
from ringside.core.v1 import system_pb2
from ringside_server.errors import RingsideError

HEARTBEAT_FRESH_S = 10.0


async def healthz(request: web.Request) -> web.Response:
    edge = request.app[EDGE]
    roles: dict[str, str] = {"edge": "ready"}
    try:
        status = await edge.core.internal(edge.core.system.GetStatus, system_pb2.GetStatusRequest(), timeout_s=2.0)
        roles["core"] = "ready"
        for report in status.roles:
            if report.age_seconds <= HEARTBEAT_FRESH_S:
                roles[report.role] = "ready"
    except RingsideError:
        roles["core"] = "unreachable"
    missing = [role for role in edge.settings.required_roles if roles.get(role) != "ready"]
    body = {"status": "ok" if not missing else "starting", "roles": roles, "waiting_for": missing}
    return web.Response(status=200 if not missing else 503, body=dumps(body), content_type="application/json")
