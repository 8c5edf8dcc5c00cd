"""Every file of feedparser's test corpus goes through parse_feed without an unexpected exception.

The corpus lives in `../shared/corpora/feedparser/` beside the repository (CI lays `shared/` beside
the clone). A file may be refused with ParseError (some are deliberately not feeds); anything else
escaping parse_feed is a bug.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.errors import ParseError
from bot.feeds.parse import parse_feed
from bot.models import Item, ParsedFeed

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpora" / "feedparser"
NOW = datetime(2025, 1, 10, 12, 0, tzinfo=UTC)
FILES = sorted(p for p in CORPUS.rglob("*") if p.is_file()) if CORPUS.is_dir() else []


@pytest.mark.skipif(not FILES, reason=f"feedparser corpus not found at {CORPUS}")
@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(CORPUS)) for p in FILES])
def test_corpus_file_parses_or_is_refused_with_parse_error(path):
    try:
        feed = parse_feed(
            path.read_bytes(), source_id="corpus", url="http://example.org/feed.xml", now=NOW
        )
    except ParseError as exc:
        reason = str(exc)
        assert reason  # refused, with a reason
        return
    assert isinstance(feed, ParsedFeed)
    for item in feed.items:
        assert isinstance(item, Item)
        assert item.key
        assert item.published.tzinfo is not None
        assert item.url == "" or item.url.startswith(("http://", "https://"))
