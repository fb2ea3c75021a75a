"""Where a webhook may point: public addresses only, checked on every notation (DESIGN §14).

A URL is checked when it is set and again when a notice is sent: its host is resolved (the
resolver also reads every numeric notation a client library would: 2130706433, 0x7f000001,
127.1), and every address it resolves to must be public. The sender then connects to the
address it checked, so a second lookup cannot point it elsewhere.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# IPv6 ranges that carry an IPv4 address in their last 32 bits.
_CARRY_IPV4 = (
    ipaddress.IPv6Network("64:ff9b::/96"),  # NAT64
    ipaddress.IPv6Network("64:ff9b:1::/48"),  # local-use NAT64
    ipaddress.IPv6Network("::/96"),  # IPv4-compatible (deprecated)
)


class RefusedURL(ValueError):
    """A webhook URL that may not be called; the message says why."""


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """What an operator allows beyond public https: plain http, and named networks."""

    allow_http: bool = False
    allowed_networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def of(cls, config: Any) -> AddressPolicy:
        return cls(config["WEBHOOK_ALLOW_HTTP"], tuple(config["WEBHOOK_ALLOWED_NETWORKS"]))


@dataclass(frozen=True, slots=True)
class Target:
    """A checked URL: its parts, and the addresses it may be reached at."""

    url: SplitResult
    host: str
    port: int
    addresses: tuple[str, ...]


def is_public(address: IPAddress) -> bool:
    """Say whether an address is on the public internet, looking inside IPv6 forms of IPv4."""
    if isinstance(address, ipaddress.IPv6Address):
        carried = _carried_ipv4(address)
        if carried is not None:
            return is_public(carried)
    if isinstance(address, ipaddress.IPv6Address) and address.is_site_local:
        return False  # fec0::/10, deprecated but still routed inside some sites
    return address.is_global and not address.is_multicast and not address.is_reserved


def _carried_ipv4(address: ipaddress.IPv6Address) -> IPAddress | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        server, client = address.teredo
        return client if is_public(server) else server
    if any(address in network for network in _CARRY_IPV4):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def resolve(host: str, port: int) -> tuple[str, ...]:
    """Return every address a host name (or numeric notation) resolves to."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise RefusedURL(f"the host {host!r} does not resolve ({error})") from None
    return tuple(dict.fromkeys(str(info[4][0]) for info in found))


def check(url: str, policy: AddressPolicy) -> Target:
    """Return the URL's target if every address it resolves to may be called."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError as error:
        raise RefusedURL(str(error)) from None
    allowed_schemes = ("https", "http") if policy.allow_http else ("https",)
    if parts.scheme not in allowed_schemes:
        raise RefusedURL(f"must be {' or '.join(allowed_schemes)}")
    if parts.username is not None or parts.password is not None:
        raise RefusedURL("must not carry a user name or password")
    if not host:
        raise RefusedURL("must name a host")
    if port == 0:
        raise RefusedURL("must not name port 0")
    port = port or (443 if parts.scheme == "https" else 80)
    addresses = resolve(host, port)
    for text in addresses:
        try:
            address = ipaddress.ip_address(text.split("%")[0])
        except ValueError:
            raise RefusedURL(f"{host} resolves to {text!r}, which is not an address") from None
        if not (is_public(address) or _in(address, policy.allowed_networks)):
            raise RefusedURL(f"{host} is at {address}, which is not a public address")
    return Target(parts, host, port, addresses)


def _in(address: IPAddress, networks: Sequence[IPNetwork]) -> bool:
    return any(address.version == network.version and address in network for network in networks)
