"""Who is asking, by network address, for the throttles: the direct peer, or behind a trusted reverse proxy the client
it forwarded for; an IPv6 client as its /64.

Behind a reverse proxy every request comes from the proxy's address, and a throttle keyed on it would count a whole
festival as one guesser. X-Forwarded-For names the client, but anyone can send that header: it is believed only when
the direct peer is one of the proxies the operator named (KYOSO_TRUSTED_PROXIES), and then only as far as trusted
proxies wrote it. Each proxy appends the address it received the request from, so reading from the right, the first
address that is not a trusted proxy is the client as the outermost trusted proxy saw it; what is left of it, the client
may have written itself.

An IPv6 client usually holds a whole /64 and picks a new address in it whenever it likes (privacy extensions): keyed
per address, one phone would be a new guesser at each request.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

IPV6_CLIENT_PREFIX = 64


@lru_cache(maxsize=8)
def trusted_networks(setting: str) -> tuple[Network, ...]:
    """The setting's addresses and networks (comma-separated: `10.0.0.5, 10.1.0.0/16, fd00::/8`); ValueError naming
    an entry that is neither."""
    networks = []
    for entry in (e.strip() for e in setting.split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"{entry!r} is not an IP address or network (e.g. 10.0.0.5 or 10.0.0.0/8)") from None
    return tuple(networks)


def parse_address(text: str) -> Address | None:
    """An address as a peer or a proxy writes it: plain, `[v6]`, with a port (`1.2.3.4:5678`, `[v6]:443`), or an
    IPv4 address mapped into IPv6. None for anything else (a name, garbage)."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:  # IPv4 with a port; IPv6 has at least two colons
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def throttle_key(address: Address) -> str:
    """`203.0.113.7`, or for IPv6 the client's /64: `2001:db8:1:2::/64`."""
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((address, IPV6_CLIENT_PREFIX), strict=False))
    return str(address)


def _trusted(address: Address, networks: Iterable[Network]) -> bool:
    return any(address.version == n.version and address in n for n in networks)


def client_address(peer: str | None, forwarded_for: list[str], trusted: tuple[Network, ...]) -> str:
    """The throttle key of the client behind `peer` (the connection's other end), given the request's
    X-Forwarded-For headers (every one, in order) and the trusted proxies."""
    if peer is None:
        return "unknown"
    address = parse_address(peer)
    if address is None:
        return peer  # not an IP address (a test client's name, a Unix socket): as it is
    if trusted and _trusted(address, trusted):
        hops = [hop for header in forwarded_for for hop in header.split(",")]
        for hop in reversed(hops):
            forwarded = parse_address(hop)
            if forwarded is None:
                break  # garbage where a trusted proxy would have written an address: trust nothing beyond it
            address = forwarded
            if not _trusted(forwarded, trusted):
                break
    return throttle_key(address)
