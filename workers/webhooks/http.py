"""The deliveries' HTTP client: the SSRF rule is applied to the address actually connected.

aiohttp hands every resolved (or literal) address to the socket factory right before it connects,
so checking there leaves no gap between a DNS answer and the connection (no DNS rebinding).
"""

from __future__ import annotations

import errno
import socket
from typing import Any

import aiohttp

from ringside_server.netpolicy import AddressPolicy

MAX_CONNECTIONS = 100


class BlockedAddressError(OSError):
    pass


def guarded_socket_factory(policy: AddressPolicy) -> Any:
    def factory(addr_info: tuple[Any, ...]) -> socket.socket:
        family, sock_type, proto, _, address = addr_info
        host = str(address[0])
        if policy.refuses(host):
            raise BlockedAddressError(
                errno.EACCES,
                f"{host} is a loopback, private, link-local or reserved address (RINGSIDE_WEBHOOK_ALLOWED_NETWORKS)",
            )
        return socket.socket(family=family, type=sock_type, proto=proto)

    return factory


def delivery_session(policy: AddressPolicy) -> aiohttp.ClientSession:
    """One pooled session for every delivery; no cookies, no environment proxies, no redirects
    (each request passes allow_redirects=False)."""
    connector = aiohttp.TCPConnector(
        limit=MAX_CONNECTIONS, socket_factory=guarded_socket_factory(policy), use_dns_cache=False
    )
    return aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar(), trust_env=False)
