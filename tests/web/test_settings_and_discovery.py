"""The HTTP settings (BOT_HTTP_PORT, BOT_HTTP_HOST, BOT_PUBLIC_URL) and WebSub hub discovery in parse."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.config import load_settings
from bot.errors import ConfigError
from bot.feeds.parse import parse_feed
from tests.feeds.build import atom, item, rss
from tests.web.rig import with_hub

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def test_http_settings_default_to_no_server_on_loopback():
    settings = load_settings({})
    assert settings.http_port is None
    assert settings.http_host == "127.0.0.1"
    assert settings.public_url is None


def test_http_settings_are_read_by_their_documented_names():
    settings = load_settings(
        {
            "BOT_HTTP_PORT": "8080",
            "BOT_HTTP_HOST": "0.0.0.0",
            "BOT_PUBLIC_URL": "https://bot.example.org",
        }
    )
    assert (settings.http_port, settings.http_host) == (8080, "0.0.0.0")
    assert settings.public_url == "https://bot.example.org"


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"BOT_HTTP_PORT": "70000"}, "BOT_HTTP_PORT"),
        ({"BOT_HTTP_PORT": "web"}, "BOT_HTTP_PORT"),
        ({"BOT_PUBLIC_URL": "bot.example.org"}, "BOT_PUBLIC_URL"),
        ({"BOT_HTTP_HOST": ""}, "BOT_HTTP_HOST"),
    ],
)
def test_bad_http_settings_are_refused_by_name(env, problem):
    with pytest.raises(ConfigError, match=problem):
        load_settings(env)


def test_an_rss_feed_names_its_hub_and_self_url():
    body = with_hub(rss([item(1)]), "https://pubsubhubbub.appspot.com/", "https://outlet.az/feed/")
    feed = parse_feed(body, source_id="s", url="https://outlet.az/feed", now=NOW)
    assert feed.hub == "https://pubsubhubbub.appspot.com/"
    assert feed.self_url == "https://outlet.az/feed/"


def test_an_atom_feed_names_its_hub():
    body = atom([item(1)]).replace(
        b"<title>", b'<link rel="hub" href="https://websub.example/hub"/><title>', 1
    )
    feed = parse_feed(body, source_id="s", url="https://outlet.az/atom", now=NOW)
    assert feed.hub == "https://websub.example/hub"


def test_a_feed_without_a_hub_or_with_a_non_http_one_has_none():
    assert parse_feed(rss([item(1)]), source_id="s", url="https://o.az/f", now=NOW).hub is None
    body = with_hub(rss([item(1)]), "javascript:alert(1)", "https://o.az/f")
    assert parse_feed(body, source_id="s", url="https://o.az/f", now=NOW).hub is None
