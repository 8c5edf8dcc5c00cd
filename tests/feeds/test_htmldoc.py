"""Hostile HTML pages are refused or parsed within bounds (bot.feeds.htmldoc)."""

from __future__ import annotations

import time

import pytest

from bot.errors import ParseError
from bot.feeds.htmldoc import MAX_ATTRIBUTES, parse_html


def nested(depth: int) -> bytes:
    return b"<html><body>" + b"<div>" * depth + b"deep" + b"</div>" * depth + b"</body></html>"


def attributes(count: int, value: bytes = b"") -> bytes:
    names = b" ".join(b"a%d%s" % (i, value) for i in range(count))
    return b"<html><body><div " + names + b">x</div></body></html>"


def test_deep_nesting_is_parsed_quickly_because_the_parser_stops_at_its_depth_limit():
    started = time.perf_counter()
    root = parse_html(nested(100_000))
    assert time.perf_counter() - started < 2.0
    assert sum(1 for _ in root.iter()) < 1_000


@pytest.mark.parametrize("value", [b"", b'=">"', b"='<'"])
def test_a_tag_with_a_million_attributes_is_refused_before_the_parser_sees_it(value: bytes):
    # "<" inside values counts towards the tag cap, so that case stays under it.
    body = attributes({b"": 1_000_000, b'=">"': 600_000}.get(value, 150_000), value)
    started = time.perf_counter()
    with pytest.raises(ParseError, match="attributes, limit"):
        parse_html(body)
    assert time.perf_counter() - started < 10.0


def test_a_tag_just_under_the_attribute_limit_is_parsed():
    root = parse_html(attributes(MAX_ATTRIBUTES - 1))
    assert len(root.find(".//div").attrib) == MAX_ATTRIBUTES - 1


def test_a_long_attribute_value_is_not_counted_as_attributes():
    body = b'<html><body><img src="data:image/png;base64,' + b"QUJD " * 400_000 + b'"><p>x</p>'
    assert parse_html(body).find(".//p").text == "x"


def test_a_page_over_the_size_cap_is_refused():
    with pytest.raises(ParseError, match="page too large"):
        parse_html(b"<html><body>" + b"x" * 9_000_000)


def test_too_many_tags_are_refused():
    with pytest.raises(ParseError, match="too much markup"):
        parse_html(b"<p>" * 250_000)
