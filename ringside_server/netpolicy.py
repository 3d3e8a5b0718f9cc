"""Which addresses webhook deliveries may connect to (API.md "Webhooks", SSRF).

Loopback, private, link-local (169.254.169.254 included), CGNAT, multicast, reserved and unspecified
addresses, v4 and v6 (and v4 inside v6), are refused unless a configured network allows them
(`RINGSIDE_WEBHOOK_ALLOWED_NETWORKS`). The worker applies this to the address it actually connects
to; the core applies it when an endpoint is registered.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

CGNAT = ipaddress.ip_network("100.64.0.0/10")
# Ranges the `ipaddress` flags miss or that are not globally routable in practice.
EXTRA_BLOCKED: tuple[Network, ...] = (
    CGNAT,
    ipaddress.ip_network("192.0.0.0/24"),  # IETF protocol assignments
    ipaddress.ip_network("198.18.0.0/15"),  # benchmarking
    ipaddress.ip_network("64:ff9b:1::/48"),  # local-use NAT64
)
MAX_NETWORKS = 100


def parse_networks(text: str) -> tuple[Network, ...]:
    """Comma-separated CIDRs ("" = none); raises ValueError naming a bad one."""
    networks = []
    for part in text.split(","):
        part = part.strip()
        if part:
            networks.append(ipaddress.ip_network(part, strict=False))
    if len(networks) > MAX_NETWORKS:
        raise ValueError(f"at most {MAX_NETWORKS} allowed networks")
    return tuple(networks)


def _unmapped(address: Address) -> Address:
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.sixtofour is not None:
            return address.sixtofour
        if address in ipaddress.ip_network("64:ff9b::/96"):  # well-known NAT64 prefix
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def is_blocked_range(address: Address) -> bool:
    """True for every kind of address a webhook may not reach by default."""
    address = _unmapped(address)
    flags = (
        address.is_loopback,
        address.is_private,
        address.is_link_local,
        address.is_multicast,
        address.is_reserved,
        address.is_unspecified,
        getattr(address, "is_site_local", False),  # fec0::/10, v6 only
    )
    return any(flags) or any(address in network for network in EXTRA_BLOCKED if network.version == address.version)


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    allowed: tuple[Network, ...] = ()

    @classmethod
    def parse(cls, text: str) -> AddressPolicy:
        return cls(parse_networks(text))

    def refuses(self, host: str) -> bool:
        """True when the literal address `host` may not be connected to."""
        try:
            address = ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            return True  # not an address: nothing to connect to
        if any(address in network for network in self.allowed if network.version == address.version):
            return False
        unmapped = _unmapped(address)
        if unmapped is not address and any(
            unmapped in network for network in self.allowed if network.version == unmapped.version
        ):
            return False
        return is_blocked_range(address)
