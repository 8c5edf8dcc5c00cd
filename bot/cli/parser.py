"""The one argparse parser of `python -m bot`: every subcommand, its arguments and help.

The handlers live in a module per group (`running`, `review`, `summary`, and the operator wing's
`config …`); `bot.cli.main` maps each subcommand name to its handler.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from bot.cli import labels
from bot.operator import cli as config_cli
from bot.operator import probe_cli
from bot.review.digest import FORMATS
from bot.storage.search import SORTS


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line's arguments. In `search`, a word with one leading dash is an exclusion
    of the query (`search bridge -corridor`), not an option argparse does not know."""
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if rest and args.command == "search" and all(_exclusion(r) for r in rest):
        return argparse.Namespace(**{**vars(args), "query": [*args.query, *rest]})
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    return args


def _exclusion(arg: str) -> bool:
    return len(arg) > 1 and arg.startswith("-") and not arg.startswith("--")


def build_parser() -> argparse.ArgumentParser:
    """The parser of `python -m bot` and the `media-review-bot` script."""
    parser = argparse.ArgumentParser(
        prog="python -m bot", description="Media-review monitoring bot."
    )
    parser.add_argument(
        "--debug", action="store_true", help="show the traceback of a failure (else one line)"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _running(sub)
    _latest(sub)
    sub.add_parser("check-config", help="validate the environment, sources.toml and topics.toml")
    config_cli.register(sub)
    labels.register(sub)
    probe_cli.register(sub)
    _review(sub)
    _summary(sub)
    _search(sub)
    return parser


def _running(sub: Any) -> None:
    sub.add_parser("run", help="poll sources on their schedule and announce flagged items")
    fetch = sub.add_parser("fetch", help="one pass over the sources, then a table per source")
    fetch.add_argument("--once", action="store_true", required=True, help="run one pass and exit")
    fetch.add_argument("--source", metavar="ID", help="only this source (even if disabled)")
    match = sub.add_parser(
        "match", help="run the topic filter over JSON Lines (id, title, summary)"
    )
    match.add_argument("file", metavar="FILE", help="a JSON Lines file, or - for standard input")
    match.add_argument(
        "--explain", action="store_true", help="add each topic's evidence (the /testmatch lines)"
    )
    match.add_argument(
        "--score", action="store_true", help="FILE is labelled: precision, recall, F1, mistakes"
    )
    match.add_argument("--json", action="store_true", help="with --score: one JSON object")


def _latest(sub: Any) -> None:
    latest = sub.add_parser("latest", help="the newest stories, each with its outlets")
    latest.add_argument(
        "-n", type=int, default=10, metavar="N", help="how many stories (default 10)"
    )
    latest.add_argument("--topic", metavar="T", help="only this topic")
    latest.add_argument("--json", action="store_true", help="one JSON object a line")


def _review(sub: Any) -> None:
    stories = sub.add_parser(
        "stories", help="group JSON Lines items (id, title, summary, published, url) into stories"
    )
    stories.add_argument("file", metavar="FILE", help="a JSON Lines file, or - for standard input")
    stories.add_argument(
        "--explain",
        action="store_true",
        help="also print, per line, the signature parts that agreed or conflicted with each "
        "earlier report compared",
    )
    digest = sub.add_parser("digest", help="the media review of the last hours, per topic")
    digest.add_argument("--topic", metavar="T", help="only this topic (default: every topic)")
    digest.add_argument(
        "--hours", type=int, default=24, metavar="H", help="how far back (default 24)"
    )
    digest.add_argument("--format", choices=FORMATS, default="text", help="default text")


def _summary(sub: Any) -> None:
    extract = sub.add_parser(
        "extract", help="an article page's title and paragraphs, as the bot extracts them"
    )
    extract.add_argument(
        "source", metavar="FILE_OR_URL", help="a saved HTML file or an http(s) URL"
    )
    summarize_ = sub.add_parser(
        "summarize", help="extractive summaries of JSON Lines (id, title, summary, text, lang)"
    )
    summarize_.add_argument(
        "file", metavar="FILE", help="a JSON Lines file, or - for standard input"
    )


def _search(sub: Any) -> None:
    search = sub.add_parser("search", help="find stored items (flagged or not) by a query")
    # "*": an empty query or one of exclusions only gets the query language's own one line.
    search.add_argument("query", nargs="*", metavar="QUERY", help='words, "phrases", -word …')
    search.add_argument("--limit", type=int, default=20, metavar="N", help="how many (default 20)")
    search.add_argument("--json", action="store_true", help="JSON Lines: one item a line")
    search.add_argument("--flagged", action="store_true", help="only items a topic flagged")
    search.add_argument("--sort", choices=SORTS, default="newest", help="default newest")
    alerts = sub.add_parser("alerts", help="personal alerts (saved searches) of the chats")
    alerts.add_argument("action", choices=["list"], help="list: alerts per chat")
