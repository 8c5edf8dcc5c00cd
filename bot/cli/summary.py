"""`python -m bot extract FILE_OR_URL` and `python -m bot summarize FILE`: the review's tools.

`extract` prints what the bot takes from an article page: the title, a blank line, then the
paragraphs separated by blank lines; exit 1 with one line on stderr when nothing can be
extracted (or the URL cannot be fetched). A URL is fetched as the bot fetches article links
(same client, caps and address checks; BOT_ALLOW_PRIVATE_URLS applies). It needs only the
environment, not the config files: `cli` runs it before loading them.

`summarize` reads JSON Lines (`id`, `title`, `summary`, optional `text` and `lang`) and writes one
line per input in order, `{"id": …, "summary": TEXT}`, the summary the bot would deliver, with
the shipped topics' matched terms and BOT_SUMMARY_CHARS; a bad line gives `{"line": N,
"error": …}`, the rest still run, and the exit code is 1.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from collections.abc import Iterable, Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any, TextIO

from bot.app.fetchers import article_fetcher
from bot.cli.exits import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from bot.cli.files import run_file
from bot.config import Config, Settings, load_settings
from bot.errors import ConfigError, FetchError
from bot.feeds.extract import Article, decode_html, extract_article
from bot.polling.summaries import review_terms
from bot.review.summary import summarize
from bot.text.jsonlines import BadLine, ItemLine, records
from bot.topics.matcher import Matcher, compile_topics

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def run_extract(args: argparse.Namespace, *, stdout: TextIO = sys.stdout) -> int:
    """`extract`: print the article, or one line on stderr and exit 1."""
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"configuration error: {'; '.join(exc.problems)}", file=sys.stderr)
        return EXIT_USAGE
    source: str = args.source
    try:
        if _URL.match(source):
            article = asyncio.run(_fetch_article(settings, source))
        else:
            article = extract_article(decode_html(Path(source).read_bytes()))
    except OSError as exc:
        print(f"cannot read {source}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAILED
    except FetchError as exc:
        print(f"cannot fetch {source}: {exc.reason}", file=sys.stderr)
        return EXIT_FAILED
    if article is None:
        print(f"no article text found in {source}", file=sys.stderr)
        return EXIT_FAILED
    stdout.write(article.render() + "\n")
    return EXIT_OK


async def _fetch_article(settings: Settings, url: str) -> Article | None:
    async with AsyncExitStack() as stack:
        return await article_fetcher(stack, settings).article(url)


def run_summarize(config: Config, args: argparse.Namespace) -> int:
    """`summarize`: one JSON line out per JSON line in; 1 when some lines were bad."""
    matcher = compile_topics(config.topics)
    limit = config.settings.summary_chars
    return run_file(args.file, lambda lines: summarize_lines(matcher, limit, lines))


class _Record(ItemLine):
    text: str | None = None


def summarize_lines(matcher: Matcher, limit: int, lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    """One `{"id", "summary"}` per non-blank line, or `{"line", "error"}` for a bad one."""
    for record in records(lines, _Record):
        if isinstance(record, BadLine):
            yield record.as_json()
            continue
        # As the bot does: the terms that flagged the item on its feed text, plus those the
        # matcher finds in the article text.
        matches = matcher.match(record.title, record.summary, record.lang)
        terms = review_terms(
            matcher, matches, title=record.title, text=record.text, language=record.lang
        )
        summary = summarize(
            title=record.title, summary=record.summary, text=record.text, terms=terms, limit=limit
        )
        yield {"id": record.id, "summary": summary}
