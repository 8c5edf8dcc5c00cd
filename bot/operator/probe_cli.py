"""`python -m bot probe URL`: what the bot would read at a URL, without adding anything.

Also the selector options (`--item`, `--title`, `--link`, `--date`, `--summary`) that `probe`
and `config addsource` share, and the probe both run. Exit codes: 0 readable, 2 refused (the
reason on stderr, one line).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from bot.config import Config
from bot.errors import ConfigError, FetchError, ParseError
from bot.feeds.fetch import Fetcher, make_client
from bot.feeds.listing import check_selector
from bot.models import Selectors
from bot.operator.probe import Probe, probe_source

EXIT_OK, EXIT_REFUSED = 0, 2
_FIELDS = ("item", "title", "link", "date", "summary")


def register(subparsers: Any) -> None:
    """Add the `probe` command to the main parser's subparsers."""
    probe = subparsers.add_parser(
        "probe", help="what would be read at a URL (type, first items), without adding it"
    )
    probe.add_argument("url", metavar="URL")
    add_selector_options(probe)


def add_selector_options(parser: argparse.ArgumentParser) -> None:
    """The CSS selectors of an HTML listing page: --item, --title, --link, --date, --summary."""
    group = parser.add_argument_group(
        "HTML listing page (type html)", "CSS selectors; --item, --title and --link go together"
    )
    group.add_argument("--item", metavar="CSS", help="each item's element in the page")
    group.add_argument("--title", metavar="CSS", help="the title, inside an item")
    group.add_argument("--link", metavar="CSS", help="the link (an <a>, or holding one)")
    group.add_argument("--date", metavar="CSS", help="optional: the date, inside an item")
    group.add_argument("--summary", metavar="CSS", help="optional: the teaser, inside an item")


def selectors_from(args: argparse.Namespace) -> Selectors | None:
    """The selectors given on the command line, or None; ConfigError when incomplete or not CSS."""
    given = {name: getattr(args, name) for name in _FIELDS if getattr(args, name, None)}
    if not given:
        return None
    missing = [f"--{name}" for name in ("item", "title", "link") if name not in given]
    if missing:
        raise ConfigError(
            [f"an HTML page needs --item, --title and --link; missing {', '.join(missing)}"]
        )
    problems = [f"--{n}: {p}" for n, v in given.items() if (p := check_selector(v)) is not None]
    if problems:
        raise ConfigError(problems)
    return Selectors(**given)


def source_extra(probe: Probe, selectors: Selectors | None) -> dict[str, Any] | None:
    """The fields a probed source adds to its sources.toml entry: its type unless a feed, and
    its selectors (the ones given)."""
    extra: dict[str, Any] = {} if probe.kind == "feed" else {"type": probe.kind}
    if selectors is not None:
        extra["selectors"] = {k: v for k, v in asdict(selectors).items() if v}
    return extra or None


async def probe_url(config: Config, url: str, selectors: Selectors | None) -> Probe:
    """Probe `url` with the configured fetch limits; ConfigError with the reason when refused."""
    settings = config.settings
    client = make_client(timeout=settings.fetch_timeout)
    try:
        fetcher = Fetcher(client, max_bytes=settings.max_body_bytes)
        try:
            return await probe_source(fetcher, url, now=datetime.now(UTC), selectors=selectors)
        except (FetchError, ParseError) as exc:
            raise ConfigError([f"{url}: {exc}"]) from exc
    finally:
        await client.aclose()


def run(config: Config, args: argparse.Namespace) -> int:
    """Print what the URL holds; 0, or 2 with the reason on stderr."""
    try:
        probe = asyncio.run(probe_url(config, args.url, selectors_from(args)))
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"refused: {problem}", file=sys.stderr)
        return EXIT_REFUSED
    print("\n".join(probe.report()))
    return EXIT_OK
