"""The providers' session is shared by every caller: a cookie one provider answer sets never rides on
a later request (another caller's), over a real socket."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestServer

from ringside_server.providers.session import providers_session


async def test_a_cookie_set_by_a_provider_is_not_sent_on_the_next_request() -> None:
    cookies_seen: list[str | None] = []

    async def completions(request: web.Request) -> web.Response:
        cookies_seen.append(request.headers.get("Cookie"))
        response = web.json_response({"object": "chat.completion"})
        response.set_cookie("__cf_bm", "caller-a-session", path="/")
        return response

    app = web.Application()
    app.router.add_post("/v1/chat/completions", completions)
    async with TestServer(app, host="127.0.0.1") as server, providers_session() as session:
        for _ in range(2):
            # by name: aiohttp's default jar keeps no cookie of a bare IP address, but does of a name
            url = f"http://localhost:{server.port}/v1/chat/completions"
            async with session.post(url, json={}) as response:
                assert response.status == 200
    assert cookies_seen == [None, None]
