"""SSRF: the delivery session refuses blocked addresses on the address it connects to (literal or
resolved from a name), v4 and v6; the allow-list lets a loopback receiver through."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import aiohttp
import pytest

from ringside_server.netpolicy import AddressPolicy
from tests.workers.webhook_receiver import Receiver
from workers.webhooks.http import delivery_session

BLOCKED = [
    "127.0.0.1",
    "127.10.0.1",
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "100.127.255.254",
    "224.0.0.251",
    "240.0.0.1",
    "255.255.255.255",
    "0.0.0.0",
    "198.18.0.1",
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "fd12:3456::1",
    "ff02::1",
    "fec0::1",
    "::ffff:127.0.0.1",
    "::ffff:169.254.169.254",
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
]
PUBLIC = ["8.8.8.8", "93.184.216.34", "2606:4700:4700::1111", "::ffff:8.8.8.8"]


@pytest.mark.parametrize("address", BLOCKED)
def test_blocked_ranges(address: str) -> None:
    assert AddressPolicy().refuses(address)


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address: str) -> None:
    assert not AddressPolicy().refuses(address)


def test_the_allow_list_lifts_a_range_and_only_it() -> None:
    policy = AddressPolicy.parse("127.0.0.0/8, fd00::/8")
    assert not policy.refuses("127.0.0.1") and not policy.refuses("fd12::1") and not policy.refuses("::ffff:127.0.0.1")
    assert policy.refuses("10.0.0.1") and policy.refuses("169.254.169.254") and policy.refuses("::1")
    with pytest.raises(ValueError):
        AddressPolicy.parse("127.0.0.1/33")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver.start()
    yield running
    running.stop()


def _ipv6_loopback_works() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


async def _post(policy: AddressPolicy, url: str) -> int:
    async with delivery_session(policy) as session, session.post(url, data=b"{}", allow_redirects=False) as response:
        return response.status


async def test_connections_to_blocked_addresses_are_refused(receiver: Receiver) -> None:
    port = receiver.server.server_address[1]
    for url in (f"http://127.0.0.1:{port}/hook", f"http://localhost:{port}/hook"):  # literal, then by name
        with pytest.raises(aiohttp.ClientConnectorError, match="RINGSIDE_WEBHOOK_ALLOWED_NETWORKS"):
            await _post(AddressPolicy(), url)
    if _ipv6_loopback_works():
        with pytest.raises(aiohttp.ClientConnectorError):
            await _post(AddressPolicy(), f"http://[::1]:{port}/hook")
    assert receiver.received == []


async def test_the_allow_list_lets_a_loopback_receiver_through(receiver: Receiver) -> None:
    port = receiver.server.server_address[1]
    assert await _post(AddressPolicy.parse("127.0.0.0/8"), f"http://localhost:{port}/hook") == 200
    assert len(receiver.received) == 1
