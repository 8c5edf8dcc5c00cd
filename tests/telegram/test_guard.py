"""The loopback guard refuses anything but loopback."""

import socket

import pytest


def test_connection_to_a_public_address_is_refused() -> None:
    with socket.socket() as s, pytest.raises(ConnectionRefusedError, match="test guard"):
        s.connect(("192.0.2.1", 80))  # TEST-NET-1: never routable anyway


def test_name_lookup_of_a_public_host_is_refused() -> None:
    with pytest.raises(ConnectionRefusedError, match="test guard"):
        socket.getaddrinfo("api.telegram.org", 443)


def test_loopback_is_allowed() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.create_connection(server.getsockname(), timeout=2):
            pass
