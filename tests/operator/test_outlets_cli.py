"""Outlets without a feed on the command line, as real processes: `check-config` validating each
type, `python -m bot probe URL`, and `config addsource` detecting the type by content."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.feeds.build import item, rss
from tests.feeds.outlets import (
    LISTING_SELECTORS,
    channel,
    iso,
    json_feed,
    listing,
    news_sitemap,
    post,
    story,
)
from tests.operator.test_cli import REPO, Bot, make_bot
from tests.servers import FeedServer

PLAIN_PAGE = b"<!doctype html><html><head><title>News</title></head><body><p>Hi</p></body></html>"


@pytest.fixture
def bot(tmp_path: Path) -> Bot:
    return make_bot(tmp_path, f"sqlite:///{tmp_path / 'bot.db'}")


def run(bot: Bot, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=bot.env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        check=False,
    )


def write_sources(bot: Bot, text: str) -> None:
    (bot.config_dir / "sources.toml").write_text(text, encoding="utf-8")


GOOD = """
[[sources]]
id = "tg"
name = "Channel"
url = "https://t.me/s/azertac"
type = "telegram"

[[sources]]
id = "page"
name = "Page"
url = "https://outlet.example/latest"
type = "html"
[sources.selectors]
item = "article.news-item"
title = "h3"
link = "h3 a"
date = "span.news-date"

[[sources]]
id = "sm"
name = "Sitemap"
url = "https://outlet.example/news-sitemap.xml"
type = "sitemap"

[[sources]]
id = "jf"
name = "JSON"
url = "https://outlet.example/feed.json"
"""


def test_check_config_accepts_each_type(bot: Bot) -> None:
    write_sources(bot, GOOD)
    done = run(bot, "check-config")
    assert done.returncode == 0, done.stderr
    assert "4 sources (4 enabled)" in done.stdout


@pytest.mark.parametrize(
    ("entry", "needle"),
    [
        (
            'type = "html"',
            "source 'x': entry: selectors: an html source needs a [sources.selectors]",
        ),
        (
            'type = "html"\n[sources.selectors]\nitem = "div.n"\ntitle = "h3 >"\nlink = "a"',
            "source 'x': entry: selectors.title: not a CSS selector: 'h3 >'",
        ),
        (
            'type = "html"\n[sources.selectors]\nitem = "div.n"\ntitle = "h3"',
            "source 'x': entry: selectors.link: missing",
        ),
        (
            'type = "telegram"\n[sources.selectors]\nitem = "a"\ntitle = "a"\nlink = "a"',
            "only html sources have selectors",
        ),
        (
            'type = "rss"',
            "source 'x': type: must be one of 'feed', 'telegram', 'html' or 'sitemap'",
        ),
    ],
)
def test_check_config_refuses_a_bad_type_or_selectors_naming_the_field(
    bot: Bot, entry: str, needle: str
) -> None:
    write_sources(bot, f'[[sources]]\nid = "x"\nname = "X"\nurl = "https://x.example/"\n{entry}\n')
    done = run(bot, "check-config")
    assert done.returncode == 2
    assert needle in done.stderr


def test_probe_shows_a_channel_preview_with_how_often_to_poll_it(
    bot: Bot, feed_server: FeedServer
) -> None:
    posts = [post(n, f"Message number {n}") for n in range(1, 21)]
    feed_server.put("/s/azertac", channel(posts), content_type="text/html; charset=utf-8")
    done = run(bot, "probe", feed_server.url("/s/azertac"))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[:4] == [
        "type: telegram",
        f"url: {feed_server.url('/s/azertac')}",
        "title: AZERTAC",
        "items: 20",
    ]
    # 20 messages 10 minutes apart: half the 200 minutes they take.
    assert (
        lines[4]
        == "keep up: the preview shows the last ~20 messages: poll at least every 1h40m to keep up"
    )
    assert lines[5].endswith("Message number 20")
    assert lines[6].strip() == "https://t.me/azertac/20"
    # Nothing was added: the probe did not even create the database (`config show` refuses).
    assert "does not exist" in run(bot, "config", "show").stderr


@pytest.mark.parametrize(
    ("path", "body", "content_type", "kind"),
    [
        ("/sitemap.xml", news_sitemap([story(1, date=iso(1))]), "application/xml", "sitemap"),
        ("/feed.json", json_feed([story(1, date=iso(1))]), "application/feed+json", "feed"),
        ("/feed.xml", rss([item(1)]), "application/rss+xml", "feed"),
    ],
)
def test_probe_knows_a_sitemap_a_json_feed_and_a_feed_by_content(
    bot: Bot, feed_server: FeedServer, path: str, body: bytes, content_type: str, kind: str
) -> None:
    feed_server.put(path, body, content_type=content_type)
    done = run(bot, "probe", feed_server.url(path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == f"type: {kind}"
    assert "items: 1" in done.stdout


def test_probe_follows_a_pages_feed_link(bot: Bot, feed_server: FeedServer) -> None:
    page = (
        b'<html><head><link rel="alternate" type="application/rss+xml" href="/rss/all.xml">'
        b"</head><body>News</body></html>"
    )
    feed_server.put("/home", page, content_type="text/html")
    feed_server.put("/rss/all.xml", rss([item(1), item(2)], title="Outlet RSS"))
    done = run(bot, "probe", feed_server.url("/home"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[:4] == [
        "type: feed",
        f"url: {feed_server.url('/rss/all.xml')}",
        "title: Outlet RSS",
        "items: 2",
    ]


def test_probe_refuses_a_plain_page_in_one_line_saying_how_to_give_selectors(
    bot: Bot, feed_server: FeedServer
) -> None:
    feed_server.put("/news", PLAIN_PAGE, content_type="text/html")
    done = run(bot, "probe", feed_server.url("/news"))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "needs CSS selectors" in done.stderr
    assert "config addsource ID URL --item CSS --title CSS --link CSS" in done.stderr


def test_probe_reads_a_page_with_selectors_and_names_one_that_matches_nothing(
    bot: Bot, feed_server: FeedServer
) -> None:
    feed_server.put("/latest", listing([story(2), story(1)]), content_type="text/html")
    flags = [f"--{k}={v}" for k, v in LISTING_SELECTORS.items()]
    done = run(bot, "probe", feed_server.url("/latest"), *flags)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "type: html"
    assert "Story 2" in done.stdout
    broken = run(bot, "probe", feed_server.url("/latest"), *flags[:-1], "--summary=p.gone")
    assert broken.returncode == 2
    assert "selector summary 'p.gone' matched nothing on the page" in broken.stderr


def test_addsource_detects_a_channel_and_stores_its_type(bot: Bot, feed_server: FeedServer) -> None:
    feed_server.put(
        "/s/mfa", channel([post(1, "Statement")], name="mfa", title="MFA"), content_type="text/html"
    )
    out = bot.ok("addsource", "mfa-tg", feed_server.url("/s/mfa"))
    assert "[type telegram:" in out
    assert "poll at least every" in out or "too few dated messages" in out
    sources, _ = bot.effective()
    entry = next(s for s in sources["sources"] if s["id"] == "mfa-tg")
    assert entry == {
        "id": "mfa-tg",
        "name": "MFA",
        "url": feed_server.url("/s/mfa"),
        "type": "telegram",
    }


def test_addsource_refuses_a_plain_page_and_accepts_it_with_selectors(
    bot: Bot, feed_server: FeedServer
) -> None:
    feed_server.put("/latest", listing([story(1)]), content_type="text/html")
    refused = bot.refused("addsource", "page", feed_server.url("/latest"))
    assert "needs CSS selectors" in refused
    assert refused.count("\n") == 1
    flags = [f"--{k}={v}" for k, v in LISTING_SELECTORS.items() if k != "summary"]
    out = bot.ok("addsource", "page", feed_server.url("/latest"), *flags)
    assert "[type html:" in out
    sources, _ = bot.effective()
    entry = next(s for s in sources["sources"] if s["id"] == "page")
    assert entry["type"] == "html"
    assert entry["selectors"] == {k: v for k, v in LISTING_SELECTORS.items() if k != "summary"}
    assert run(bot, "config", "reload").returncode == 0
    incomplete = bot.refused("addsource", "page2", feed_server.url("/latest"), "--item=div")
    assert "missing --title, --link" in incomplete


def test_addsource_follows_a_pages_feed_link_and_stores_the_feed(
    bot: Bot, feed_server: FeedServer
) -> None:
    page = b'<html><head><link rel="alternate" type="application/atom+xml" href="feed.atom"></head></html>'
    feed_server.put("/site/", page, content_type="text/html")
    feed_server.put("/site/feed.atom", rss([item(1)], title="Site"))
    bot.ok("addsource", "site", feed_server.url("/site/"))
    sources, _ = bot.effective()
    entry = next(s for s in sources["sources"] if s["id"] == "site")
    assert entry["url"] == feed_server.url("/site/feed.atom")
    assert "type" not in entry
