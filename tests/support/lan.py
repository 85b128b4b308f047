"""A non-loopback address of this machine, so tests can be a *remote* client with real sockets.

Connecting from this machine to its own LAN address makes the server see that
address as the peer, which is not loopback: the token rules for remote clients apply.
"""

from __future__ import annotations

import socket

import pytest


def lan_address() -> str:
    """This machine's outgoing IPv4 address; skips the test when it has none but loopback."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks a route
        except OSError:
            pytest.skip("no non-loopback IPv4 address on this machine")
        address = str(probe.getsockname()[0])
    if address.startswith("127.") or address == "0.0.0.0":
        pytest.skip("no non-loopback IPv4 address on this machine")
    return address
