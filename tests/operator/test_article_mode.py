"""`fetch_article` per source: the sources.toml key, the `article` edit, and `config article`."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.feeds.sources import sources_from_data
from bot.operator.edits import SetArticle, apply_edit, describe, from_json, to_json
from tests.operator.test_cli import Bot, alpha_and_terms, make_bot
from tests.operator.test_edits import data, source


def test_fetch_article_defaults_to_short_and_takes_the_three_modes() -> None:
    entries = [
        {"id": "a", "name": "A", "url": "https://a.example/f"},
        {"id": "b", "name": "B", "url": "https://b.example/f", "fetch_article": "never"},
        {"id": "c", "name": "C", "url": "https://c.example/f"},
    ]
    sources = sources_from_data(
        {"defaults": {"fetch_article": "always"}, "sources": entries[2:]}, "x"
    )
    assert sources[0].fetch_article == "always"
    a, b = sources_from_data({"sources": entries[:2]}, "x")
    assert (a.fetch_article, b.fetch_article) == ("short", "never")


def test_an_unknown_fetch_article_mode_is_a_config_error() -> None:
    entry = {"id": "a", "name": "A", "url": "https://a.example/f", "fetch_article": "sometimes"}
    with pytest.raises(ConfigError, match=r"source 'a': fetch_article: must be one of"):
        sources_from_data({"sources": [entry]}, "x")


def test_set_article_edit_strict_lenient_and_round_trip() -> None:
    edited = apply_edit(data(), SetArticle("a", "never"))
    assert source(edited, "a")["fetch_article"] == "never"
    with pytest.raises(ConfigError, match="already fetches articles: never"):
        apply_edit(edited, SetArticle("a", "never"))
    assert apply_edit(edited, SetArticle("a", "never"), strict=False) == edited
    with pytest.raises(ConfigError, match="already fetches articles: short"):
        apply_edit(data(), SetArticle("a", "short"))  # the default
    with pytest.raises(ConfigError, match="no source 'zz'"):
        apply_edit(data(), SetArticle("zz", "always"))
    with pytest.raises(ConfigError, match="unknown mode"):
        apply_edit(data(), SetArticle("a", "sometimes"))
    assert from_json(to_json(SetArticle("a", "always"))) == SetArticle("a", "always")
    assert describe(SetArticle("a", "always")) == "set article fetching of source 'a' to always"


@pytest.fixture
def cli(tmp_path: Path) -> Bot:
    return make_bot(tmp_path, f"sqlite:///{tmp_path / 'bot.db'}")


def test_config_article_is_audited_and_undone(cli: Bot) -> None:
    out = cli.ok("article", "alpha", "never")
    assert "set article fetching of source 'alpha' to never" in out
    assert "fetch_article" in out
    alpha, _ = alpha_and_terms(cli)
    assert alpha["fetch_article"] == "never"
    assert "already fetches articles: never" in cli.refused("article", "alpha", "never")
    assert "cli:desk-operator" in cli.ok("audit")
    cli.ok("undo")
    alpha, _ = alpha_and_terms(cli)
    assert alpha.get("fetch_article", "short") == "short"
    assert cli("article", "alpha", "sometimes").returncode == 2
