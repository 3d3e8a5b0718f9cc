"""The HTTP session every role sends provider requests through."""

from __future__ import annotations

import aiohttp


def providers_session(connector: aiohttp.BaseConnector | None = None) -> aiohttp.ClientSession:
    """One session shared by every caller's calls, so it keeps no cookies: a provider's cookie (a CDN's
    bot-management one, say) set on one caller's answer must not ride on another caller's request,
    and matching the jar against every upstream request was a per-call cost (~0.6 % of the edge's
    samples at 200 req/s, docs/performance.md)."""
    return aiohttp.ClientSession(connector=connector, auto_decompress=True, cookie_jar=aiohttp.DummyCookieJar())
