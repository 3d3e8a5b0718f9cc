"""What every handler reaches through the app: the kernel's Gateway, plus what only the edge holds
(signing keys, verified Client Tokens, trusted proxies, the request log)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from aiohttp import web

from edge_http.signing_keys import SigningKeys
from edge_http.verified_keys import VerifiedKeys
from ringside_server.client_token import VerifiedCache
from ringside_server.file_store import FileStore
from ringside_server.metering.gateway import TEST_PROVIDER, Gateway
from ringside_server.request_log import RequestRecorder
from ringside_server.single_flight import SingleFlight

__all__ = ["EDGE", "TEST_PROVIDER", "Edge"]


@dataclass(slots=True)
class Edge(Gateway):
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    signing_keys: SigningKeys = field(default_factory=SigningKeys)
    verified_tokens: VerifiedCache = field(default_factory=VerifiedCache)
    verified_keys: VerifiedKeys = field(default_factory=VerifiedKeys)
    key_checks: SingleFlight[str, None] = field(default_factory=SingleFlight)  # VerifyApiKey in flight, by key
    # The request log's sender (GET /v1/requests); None only in tests of other parts.
    request_log: RequestRecorder | None = None
    # Uploaded files' bytes (RINGSIDE_FILES_URL: the data dir or a shared bucket); None only in tests of other parts.
    files: FileStore | None = None


EDGE = web.AppKey("edge", Edge)
