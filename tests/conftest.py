"""Shared test setup: a guard that keeps every connection on loopback, and the shared fixtures."""

from __future__ import annotations

import ipaddress
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

# PTB 22 warns (an error under filterwarnings=error) when RetryAfter carries seconds as an int;
# opting in to its timedelta values, as the bot does, keeps the suite on the future behaviour.
os.environ.setdefault("PTB_TIMEDELTA", "1")

from bot.feeds.fetch import make_client
from bot.topics.config import load_topics
from bot.topics.matcher import Matcher, compile_topics
from tests.db import (  # noqa: F401  (fixtures)
    database_url,
    db_engine_fixture,
    other_engine_fixture,
    store_fixture,
)
from tests.emulator.server import telegram_api  # noqa: F401  (fixture)
from tests.servers import feed_server  # noqa: F401  (fixture)

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def _is_loopback(host: object) -> bool:
    if not isinstance(host, str):
        return True  # unix sockets and the like
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _guard(event: str, args: tuple[Any, ...]) -> None:
    # An audit hook sees every connect and name lookup, from httpx, asyncpg and PTB alike,
    # without patching any of them. Tests must never reach the internet.
    if event == "socket.connect":
        address = args[1]
        if isinstance(address, tuple) and not _is_loopback(address[0]):
            raise ConnectionRefusedError(f"test guard: refusing connection to {address[0]!r}")
    elif event == "socket.getaddrinfo":
        host = args[0]
        if isinstance(host, bytes):
            host = host.decode("ascii", "replace")
        if host is not None and not _is_loopback(host):
            raise ConnectionRefusedError(f"test guard: refusing name lookup of {host!r}")


sys.addaudithook(_guard)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Internet tests are opt-in; the machines that run this suite have no internet."""
    skip = pytest.mark.skip(reason="network tests are opt-in")
    for item in items:
        if "network" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    """The shipped topics (config/topics.toml), compiled."""
    return compile_topics(
        load_topics(Path(__file__).resolve().parents[1] / "config" / "topics.toml")
    )


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    """A feed client as the bot makes it, with short timeouts."""
    async with make_client(timeout=5.0) as c:
        yield c
