"""sources.toml's `type` and `[sources.selectors]`, validated with the files' own rules."""

from __future__ import annotations

import pytest

from bot.errors import ConfigError
from bot.feeds.sources import sources_from_data
from bot.models import Selectors

BASE = {"id": "x", "name": "X", "url": "https://x.example/"}


def test_each_type_is_read_with_html_selectors():
    sources = sources_from_data(
        {
            "sources": [
                {**BASE, "id": "f"},
                {**BASE, "id": "t", "url": "https://t.me/s/x", "type": "telegram"},
                {**BASE, "id": "s", "url": "https://x.example/s.xml", "type": "sitemap"},
                {
                    **BASE,
                    "id": "h",
                    "url": "https://x.example/latest",
                    "type": "html",
                    "selectors": {"item": "li.news", "title": "a", "link": "a", "date": "time"},
                },
            ]
        },
        "sources.toml",
    )
    assert [(s.id, s.kind) for s in sources] == [
        ("f", "feed"),
        ("t", "telegram"),
        ("s", "sitemap"),
        ("h", "html"),
    ]
    assert sources[3].selectors == Selectors(item="li.news", title="a", link="a", date="time")
    assert sources[0].selectors is None


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ({"type": "html"}, "entry: selectors: an html source needs a [sources.selectors] table"),
        (
            {"type": "html", "selectors": {"item": "li", "title": "a >", "link": "a"}},
            "selectors.title: not a CSS selector: 'a >'",
        ),
        (
            {"type": "html", "selectors": {"item": "li", "title": "a"}},
            "selectors.link: missing",
        ),
        (
            {"type": "html", "selectors": {"item": "li", "title": "a", "link": "a", "when": "x"}},
            "selectors.when: unknown field",
        ),
        (
            {"type": "sitemap", "selectors": {"item": "li", "title": "a", "link": "a"}},
            "only html sources have selectors (this one is sitemap)",
        ),
        ({"type": "atom"}, "type: must be one of 'feed', 'telegram', 'html' or 'sitemap'"),
    ],
)
def test_a_bad_type_or_selector_is_refused_naming_the_field(extra: dict[str, object], problem: str):
    with pytest.raises(ConfigError) as refused:
        sources_from_data({"sources": [{**BASE, **extra}]}, "sources.toml")
    assert any(
        p.startswith("sources.toml: source 'x': ") and problem in p for p in refused.value.problems
    ), refused.value.problems
