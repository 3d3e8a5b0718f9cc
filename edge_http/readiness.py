"""What the readiness probe answers (API.md "Health and metrics"): this edge has reached a core at
least once, and is not draining. A brief core outage later does not make it unready: every edge
would leave the load balancer at once for what is a core's problem."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web


@dataclass(slots=True)
class Readiness:
    core_reached: bool = False
    draining: bool = False  # from SIGTERM on, while in-flight calls finish


READINESS = web.AppKey("readiness", Readiness)
