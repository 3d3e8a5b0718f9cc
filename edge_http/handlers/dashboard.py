"""GET /dashboard and its assets: the operator dashboard, static files only.

The page holds no server-side privilege: it calls Ringside's public API with the API key the
operator typed, as an `Authorization` header (never a cookie, so CSRF is impossible by
construction). Only files the build wrote are served, by name, from a set read at import: no
path from the URL ever reaches the filesystem.
"""

from __future__ import annotations

import pathlib

from aiohttp import web

from ringside_server.errors import RingsideError

STATIC = pathlib.Path(__file__).resolve().parent.parent / "dashboard" / "static"
ASSETS = frozenset(path.name for path in STATIC.iterdir() if path.is_file() and path.name != "index.html")
CONTENT_TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
}
# Everything from this origin, nothing inline, nothing framed, no form posts: the key can only
# leave the page in a fetch to this same edge.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",  # revalidated by ETag: an upgraded edge serves its own build at once
}


def _file(name: str, content_type: str) -> web.FileResponse:
    return web.FileResponse(STATIC / name, headers={**HEADERS, "Content-Type": content_type})


async def page(_request: web.Request) -> web.FileResponse:
    return _file("index.html", "text/html; charset=utf-8")


async def asset(request: web.Request) -> web.FileResponse:
    name = request.match_info["name"]
    if name not in ASSETS:
        raise RingsideError("not_found", "No such dashboard asset.")
    return _file(name, CONTENT_TYPES.get(pathlib.PurePath(name).suffix, "application/octet-stream"))
