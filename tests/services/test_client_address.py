"""Whose address the throttles count (backend/platform/client_address.py): the peer, or behind a trusted proxy the
client it forwarded for, never what a client wrote itself; an IPv6 client as its /64."""

from __future__ import annotations

import pytest

from backend.platform.client_address import client_address, trusted_networks
from backend.platform.config import Settings

PROXIES = trusted_networks("10.0.0.0/8, 192.0.2.1, fd00::/8")


def test_without_trusted_proxies_the_header_is_ignored():
    assert client_address("198.51.100.7", ["203.0.113.1"], ()) == "198.51.100.7"


def test_a_forged_header_from_a_peer_that_is_no_trusted_proxy_is_ignored():
    assert client_address("198.51.100.7", ["203.0.113.1"], PROXIES) == "198.51.100.7"


@pytest.mark.parametrize("forwarded, client", [
    (["203.0.113.1"], "203.0.113.1"),
    (["203.0.113.1, 10.1.1.1"], "203.0.113.1"),  # two proxies of ours in a row
    (["6.6.6.6, 203.0.113.1"], "203.0.113.1"),  # the client's own "6.6.6.6" stays left of what our proxy wrote
    (["6.6.6.6", "203.0.113.1"], "203.0.113.1"),  # the same, in two header lines
    (["203.0.113.1:51234"], "203.0.113.1"),  # with a port
    (["[2001:db8::5]:443"], "2001:db8::/64"),
    (["::ffff:203.0.113.1"], "203.0.113.1"),  # IPv4 mapped into IPv6 is the IPv4 client
    (["garbage, 10.2.2.2"], "10.2.2.2"),  # nothing believed beyond what is not an address
    (["10.3.3.3, 10.2.2.2"], "10.3.3.3"),  # only proxies: the farthest of them
    ([], "10.0.0.2"),  # the proxy itself asks
])
def test_behind_a_trusted_proxy_the_rightmost_address_that_is_not_a_proxy_is_the_client(forwarded, client):
    assert client_address("10.0.0.2", forwarded, PROXIES) == client


def test_an_ipv6_client_is_keyed_by_its_slash_64():
    first = client_address("2001:db8:1:2::1", [], ())
    assert first == client_address("2001:db8:1:2:8a4f:19ff:fe02:77", [], ()) == "2001:db8:1:2::/64"
    assert client_address("2001:db8:1:3::1", [], ()) != first
    assert client_address("fd00::9", ["2001:db8:1:2::abcd"], PROXIES) == first


def test_a_peer_that_is_no_address_is_taken_as_it_is():
    assert client_address("testclient", ["203.0.113.1"], PROXIES) == "testclient"
    assert client_address(None, [], PROXIES) == "unknown"


def test_a_trusted_proxy_setting_that_is_no_address_is_refused_at_start():
    with pytest.raises(ValueError, match="'proxy.internal' is not an IP address or network"):
        Settings(trusted_proxies="10.0.0.1, proxy.internal")
