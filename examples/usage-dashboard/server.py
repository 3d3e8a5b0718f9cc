"""The usage-dashboard tutorial (seed 003) as a runnable example.

A fake sign-in, the lazy create of one Ringside customer per user (`ext:<user>`), and
`/api/mint-client-token`: the only place the secret key is used on the page's behalf. The page then
reads Ringside directly with `Authorization: Client <jwt>`; the secret key never reaches the browser.

    RINGSIDE_API_KEY=sk_test_... python examples/usage-dashboard/server.py --ringside http://127.0.0.1:8080
"""

from __future__ import annotations

import argparse
import html
import os
import pathlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
from aiohttp import web

STATIC = pathlib.Path(__file__).resolve().parent / "static"
USER_COOKIE = "demo_user"
USER_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
# The page may read its own customer's row and usage, nothing else: a stolen token is worth little.
ALLOWED_ENDPOINTS = ["GET /v1/customers/:id", "GET /v1/usage"]
TOKEN_TTL_S = 300
RINGSIDE_TIMEOUT = aiohttp.ClientTimeout(total=30)


@dataclass(frozen=True)
class Settings:
    ringside_url: str
    api_key: str  # the secret key: used by this server, never sent to the browser
    origin: str  # where the page is served from; every token is locked to it
    host: str
    port: int


SETTINGS = web.AppKey("settings", Settings)
RINGSIDE = web.AppKey("ringside", aiohttp.ClientSession)


async def ringside_session(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    headers = {"Authorization": f"Bearer {settings.api_key}"}
    async with aiohttp.ClientSession(settings.ringside_url, headers=headers, timeout=RINGSIDE_TIMEOUT) as session:
        app[RINGSIDE] = session
        yield


def signed_in_user(request: web.Request) -> str | None:
    """Fake sign-in: the cookie *is* the user. A real app asks its own auth (and CSRF checks) here."""
    user = request.cookies.get(USER_COOKIE, "")
    return user if USER_NAME.fullmatch(user) else None


def require_user(request: web.Request) -> str:
    user = signed_in_user(request)
    if user is None:
        raise web.HTTPUnauthorized(text="Sign in first.")
    return user


async def ensure_customer(ringside: aiohttp.ClientSession, user: str) -> None:
    """The tutorial's lazy create: look up `ext:<user>`; on 404 create it (idempotent on external_id)."""
    async with ringside.get(f"/v1/customers/ext:{user}") as found:
        if found.status == 200:
            return
        if found.status != 404:
            raise web.HTTPBadGateway(text=await found.text())
    async with ringside.post("/v1/customers", json={"external_id": user}) as created:
        if created.status not in (200, 201):
            raise web.HTTPBadGateway(text=await created.text())


async def passed_through(response: aiohttp.ClientResponse) -> web.Response:
    """Ringside's answer, status and JSON body unchanged."""
    return web.Response(status=response.status, body=await response.read(), content_type="application/json")


async def index(request: web.Request) -> web.StreamResponse:
    user = signed_in_user(request)
    if user is None:
        return web.FileResponse(STATIC / "sign-in.html")
    await ensure_customer(request.app[RINGSIDE], user)  # "on any server-side page load"
    page = (STATIC / "index.html").read_text()
    page = page.replace("{{ringside_url}}", html.escape(request.app[SETTINGS].ringside_url))
    return web.Response(text=page.replace("{{user}}", html.escape(user)), content_type="text/html")


async def sign_in(request: web.Request) -> web.Response:
    user = str((await request.post()).get("user", "")).strip()
    if not USER_NAME.fullmatch(user):
        raise web.HTTPBadRequest(text="A user name is 1 to 64 letters, digits, '.', '_' or '-'.")
    await ensure_customer(request.app[RINGSIDE], user)  # "in your auth callback"
    response = web.HTTPSeeOther("/")
    response.set_cookie(USER_COOKIE, user, httponly=True, samesite="Lax")
    raise response


async def sign_out(request: web.Request) -> web.Response:
    response = web.HTTPSeeOther("/")
    response.del_cookie(USER_COOKIE)
    raise response


async def mint_client_token(request: web.Request) -> web.Response:
    user = require_user(request)
    body = {"ttl_seconds": TOKEN_TTL_S, "origin": request.app[SETTINGS].origin, "allowed_endpoints": ALLOWED_ENDPOINTS}
    async with request.app[RINGSIDE].post(f"/v1/customers/ext:{user}/client_tokens", json=body) as minted:
        return await passed_through(minted)


async def demo_call(request: web.Request) -> web.Response:
    """One metered model call for the signed-in user, made here with the secret key."""
    user = require_user(request)
    body = {"model": "fc:openai/gpt-4o-mini", "max_tokens": 16, "messages": [{"role": "user", "content": "Hello"}]}
    headers = {"FC-Customer": f"ext:{user}"}
    async with request.app[RINGSIDE].post("/v1/chat/completions", json=body, headers=headers) as answered:
        return await passed_through(answered)


def create_app(settings: Settings) -> web.Application:
    app = web.Application()
    app[SETTINGS] = settings
    app.cleanup_ctx.append(ringside_session)
    app.router.add_get("/", index)
    app.router.add_post("/sign-in", sign_in)
    app.router.add_post("/sign-out", sign_out)
    app.router.add_post("/api/mint-client-token", mint_client_token)
    app.router.add_post("/api/demo-call", demo_call)
    app.router.add_static("/static/", STATIC)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ringside", default="http://127.0.0.1:8080", help="Ringside's base URL")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5173)
    parser.add_argument("--origin", help="the origin browsers load the page from (default http://HOST:PORT)")
    options = parser.parse_args()
    api_key = os.environ.get("RINGSIDE_API_KEY", "")
    if not api_key:
        parser.error("set RINGSIDE_API_KEY to a Ringside secret key (sk_test_… works offline)")
    origin = options.origin or f"http://{options.host}:{options.port}"
    settings = Settings(options.ringside.rstrip("/"), api_key, origin, options.host, options.port)
    print(f"Usage dashboard on {origin} (tokens are locked to that origin), Ringside at {settings.ringside_url}")
    web.run_app(create_app(settings), host=settings.host, port=settings.port, print=None)


if __name__ == "__main__":
    main()
