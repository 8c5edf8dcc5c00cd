"""`python -m bot config …`: the command-line twins of the Telegram operator commands.

Each edit goes through `LiveConfig` on DATABASE_URL exactly as a Telegram one does (same checks,
same audit trail, actor "cli:<os user>"); a running bot on the same database picks it up within
its watch interval. Exit codes: 0 done, 2 refused (the reason on stderr).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
import tempfile
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.config import Config
from bot.errors import ConfigError, FetchError, ParseError, StoreError
from bot.operator import edits
from bot.operator.compaction import KEEP_RECENT
from bot.operator.difference import change
from bot.operator.export import SOURCES_FILE, TOPICS_FILE, export_config, plain, render_all
from bot.operator.labels import edit_impact, impact_lines
from bot.operator.live import LiveConfig
from bot.operator.newsource import duplicate_of, new_source_problems
from bot.operator.probe_cli import add_selector_options, probe_url, selectors_from, source_extra
from bot.storage.engine import open_engine, safe_url
from bot.storage.existing import database_exists, require_existing
from bot.storage.labels import LabelStore
from bot.storage.overlap import FeedOverlap
from bot.storage.overlay import OverlayStore
from bot.text.durations import parse_duration
from bot.topics.matcher import compile_topics

EXIT_OK, EXIT_REFUSED = 0, 2
Handler = Callable[[LiveConfig, Config, argparse.Namespace], Awaitable[None]]
# An edit also gets the labels: each edit of the topics prints its effect on them.
EditHandler = Callable[[LiveConfig, Config, argparse.Namespace, LabelStore], Awaitable[None]]


def register(subparsers: Any) -> None:
    """Add the `config` command and its actions to the main parser's subparsers."""
    config = subparsers.add_parser(
        "config", help="show, export and edit the live config (files + operator edits)"
    )
    sub = config.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    sub.add_parser("show", help="the effective config (files + operator edits) as TOML")
    export = sub.add_parser("export", help="write sources.toml and topics.toml, comments kept")
    export.add_argument("--to", metavar="DIR", type=Path, help="directory (default: stdout)")
    export.add_argument(
        "--force", action="store_true", help="replace sources.toml/topics.toml already in DIR"
    )
    add = sub.add_parser(
        "addsource",
        help="probe a URL (feed, news sitemap, Telegram channel, page with selectors), then poll it",
    )
    add.add_argument("id", metavar="ID")
    add.add_argument("url", metavar="URL")
    add.add_argument("name", metavar="NAME", nargs="*", help="default: the feed's title")
    add_selector_options(add)
    add.add_argument(
        "--force", action="store_true", help="add it even if its items are another source's"
    )
    for name, what in (
        ("removesource", "stop polling and forget"),
        ("pause", "stop polling"),
        ("resume", "poll again"),
    ):
        sub.add_parser(name, help=f"{what} a source").add_argument("id", metavar="ID")
    interval = sub.add_parser("interval", help="how often to poll a source (10s, 5m, 1h30m)")
    interval.add_argument("id", metavar="ID")
    interval.add_argument("duration", metavar="DURATION")
    article = sub.add_parser(
        "article", help="when to fetch a source's article pages: never, short (default), always"
    )
    article.add_argument("id", metavar="ID")
    article.add_argument("mode", metavar="MODE", choices=("never", "short", "always"))
    sub.add_parser("terms", help="a topic's groups, terms, masks and vetoes").add_argument(
        "topic", metavar="TOPIC"
    )
    for name, what in (("addterm", "add a term to"), ("removeterm", "remove a term from")):
        p = sub.add_parser(name, help=f"{what} a group of a topic")
        p.add_argument("topic", metavar="TOPIC")
        p.add_argument("group", metavar="GROUP")
        p.add_argument("term", metavar="TERM", nargs="+", help="several words make a phrase")
    for name, what in (
        ("addmask", "add a mask phrase to"),
        ("removemask", "remove a mask phrase from"),
        ("addveto", "add a veto term to"),
        ("removeveto", "remove a veto term from"),
    ):
        p = sub.add_parser(name, help=f"{what} a topic")
        p.add_argument("topic", metavar="TOPIC")
        p.add_argument("term", metavar="TERM", nargs="+", help="several words make a phrase")
    sub.add_parser("testmatch", help="which topics the text matches, and why").add_argument(
        "text", metavar="TEXT", nargs="+"
    )
    audit = sub.add_parser("audit", help="the last changes: who, when, what, before and after")
    audit.add_argument("-n", type=int, default=10, metavar="N", help="how many (default 10)")
    sub.add_parser("undo", help="revert the last operator edit")
    compact = sub.add_parser("compact", help="fold old edits into their net effect")
    compact.add_argument(
        "--keep", type=int, default=KEEP_RECENT, help="newest changes left as they are"
    )
    sub.add_parser("reload", help="validate the files with the stored edits on top")


def run(config: Config, args: argparse.Namespace) -> int:
    """Run one `config` action; 0 on success, 2 with the reason on stderr when refused."""
    try:
        asyncio.run(_run(config, args))
    except ConfigError as exc:
        if len(exc.problems) == 1:
            print(f"refused: {exc.problems[0]}", file=sys.stderr)
        else:
            print("refused:", file=sys.stderr)
            for problem in exc.problems:
                print(f"  - {problem}", file=sys.stderr)
        return EXIT_REFUSED
    except (FetchError, ParseError, StoreError) as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    return EXIT_OK


def actor() -> str:
    """ "cli:<os user>" for the audit trail."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError):  # no passwd entry, as in some containers
        user = str(os.getuid()) if hasattr(os, "getuid") else "unknown"
    return f"cli:{user}"


def _now() -> datetime:
    return datetime.now(UTC)


# Actions that show stored state: they never create the database (a typo in DATABASE_URL is
# refused). `terms` and `testmatch` may run before the bot ever did (trying terms out): with no
# database they use the files alone, said on stderr, and create nothing.
READ_ONLY = frozenset({"show", "export", "audit", "reload"})
FILES_ALONE = frozenset({"terms", "testmatch"})


async def _run(config: Config, args: argparse.Namespace) -> None:
    url = config.settings.database_url
    if args.config_command == "testmatch" and not " ".join(args.text).strip():
        # As /testmatch without text: say how, do not "match" nothing (nor open a database).
        raise ConfigError(["no text to test; usage: python -m bot config testmatch TEXT…"])
    if args.config_command in READ_ONLY:
        require_existing(url)
    with tempfile.TemporaryDirectory(prefix="bot-config-") as scratch:
        if args.config_command in FILES_ALONE and not database_exists(url):
            print(
                f"note: no database at {safe_url(url)}: the files alone, without operator edits",
                file=sys.stderr,
            )
            url = f"sqlite:///{scratch}/edits.db"  # an empty overlay, gone on exit
        await _with_engine(url, config, args)


async def _with_engine(url: str, config: Config, args: argparse.Namespace) -> None:
    async with open_engine(url) as engine:
        live = LiveConfig(
            config_dir=config.settings.config_dir, overlay=OverlayStore(engine), clock=_now
        )
        await live.load()
        if args.config_command == "addsource":
            await _addsource(live, config, args, LabelStore(engine), FeedOverlap(engine))
        elif args.config_command in _EDITS:
            await _EDITS[args.config_command](live, config, args, LabelStore(engine))
        else:
            await _ACTIONS[args.config_command](live, config, args)


async def _show(live: LiveConfig, config: Config, args: argparse.Namespace) -> None:
    current = live.current
    print(f"# Effective config: the files in {live.config_dir} + {current.edits} operator edits")
    for reason in current.stale:
        print(f"# skipped stored edit {reason}")
    print(f"\n# ---- {SOURCES_FILE} ----")
    print(plain(live.data.sources))
    print(f"# ---- {TOPICS_FILE} ----")
    print(plain(live.data.topics))


async def _export(live: LiveConfig, config: Config, args: argparse.Namespace) -> None:
    if args.to is not None:
        if args.to.exists() and not args.to.is_dir():
            raise ConfigError([f"{args.to} is a file; --to takes a folder for the two files"])
        there = [
            args.to / name for name in (SOURCES_FILE, TOPICS_FILE) if (args.to / name).exists()
        ]
        if there and not args.force:
            names = " and ".join(str(p) for p in there)
            raise ConfigError(
                [f"{names} already exist{'s' if len(there) == 1 else ''}; --force replaces"]
            )
        for path in export_config(live.config_dir, live.data, args.to):
            print(f"wrote {path}")
        return
    for name, text in render_all(live.config_dir, live.data).items():
        print(f"# ---- {name} ----")
        print(text)


async def _addsource(
    live: LiveConfig,
    config: Config,
    args: argparse.Namespace,
    labels: LabelStore,
    overlap: FeedOverlap,
) -> None:
    name = " ".join(args.name) or None
    wrong = new_source_problems(args.id, args.url)
    if wrong:  # every problem of the id and the URL at once, before fetching anything
        raise ConfigError(wrong)
    selectors = selectors_from(args)
    await live.check(
        edits.AddSource(args.id, args.url, name)
    )  # duplicates: refused before fetching
    probe = await probe_url(config, args.url, selectors)
    print(f"probed: {probe.describe()} [type {probe.kind}: {probe.url}]")
    if (keep_up := probe.keep_up_text()) is not None:
        print(f"  {keep_up}")
    if not args.force:
        same = duplicate_of(probe.links, await overlap.holders(probe.links), new_id=args.id)
        if same is not None:
            names = {s.id: s.name for s in live.current.sources}
            raise ConfigError(
                [
                    f"{args.url} looks like a feed already polled: "
                    f"{same.describe(names.get(same.source_id))}; --force adds it anyway"
                ]
            )
    chosen = name or probe.title or None
    await _edit(
        live,
        edits.AddSource(
            args.id, probe.url or args.url, chosen, extra=source_extra(probe, selectors)
        ),
        labels,
    )


async def _simple(
    live: LiveConfig, config: Config, args: argparse.Namespace, labels: LabelStore
) -> None:
    command = args.config_command
    term = " ".join(getattr(args, "term", []))
    edit: edits.Edit
    if command == "removesource":
        edit = edits.RemoveSource(args.id)
    elif command == "pause":
        edit = edits.PauseSource(args.id)
    elif command == "resume":
        edit = edits.ResumeSource(args.id)
    elif command == "interval":
        try:
            edit = edits.SetInterval(args.id, parse_duration(args.duration))
        except ValueError as exc:
            raise ConfigError([str(exc)]) from exc
    elif command == "article":
        edit = edits.SetArticle(args.id, args.mode)
    elif command in ("addterm", "removeterm"):
        cls = edits.AddTerm if command == "addterm" else edits.RemoveTerm
        edit = cls(args.topic, args.group, term)
    elif command in ("addmask", "removemask"):
        edit = (edits.AddMask if command == "addmask" else edits.RemoveMask)(args.topic, term)
    else:
        edit = (edits.AddVeto if command == "addveto" else edits.RemoveVeto)(args.topic, term)
    await _edit(live, edit, labels)


async def _edit(live: LiveConfig, edit: edits.Edit, labels: LabelStore) -> None:
    before = live.current.topics
    result = await live.apply(edit, actor=actor())
    print(f"#{result.audit_id} {result.summary}")
    print(f"  {change(result.before, result.after)}")
    after = live.current.topics
    if after != before:
        found = await edit_impact(labels, compile_topics(before), compile_topics(after))
        for line in impact_lines(found):
            print(line)


async def _terms(live: LiveConfig, config: Config, args: argparse.Namespace) -> None:
    topic = next((t for t in live.current.topics if t.id == args.topic), None)
    if topic is None:
        known = ", ".join(t.id for t in live.current.topics)
        raise ConfigError([f"there is no topic '{args.topic}'; topics: {known}"])
    print(f"{topic.id}: {topic.name} (requires {', '.join(topic.require)})")
    for group in topic.groups:
        print(f"  group {group.name} ({len(group.terms)}): {', '.join(group.terms)}")
    print(f"  masks ({len(topic.masks)}): {', '.join(topic.masks) or '-'}")
    print(f"  vetoes ({len(topic.vetoes)}): {', '.join(topic.vetoes) or '-'}")


async def _testmatch(live: LiveConfig, config: Config, args: argparse.Namespace) -> None:
    text = " ".join(args.text)  # not blank: `_run` refused that
    for explanation in compile_topics(live.current.topics).explain(text, ""):
        print("\n".join(explanation.lines()))


async def _audit(live: LiveConfig, config: Config, args: argparse.Namespace) -> None:
    if not 1 <= args.n <= 1000:
        raise ConfigError(["-n must be between 1 and 1000"])
    tz = config.settings.timezone
    entries = await live.audit(args.n)
    for e in entries:
        undone = " [undone]" if e.undone else ""
        print(f"#{e.id} {e.at.astimezone(tz):%Y-%m-%d %H:%M:%S} {e.actor}: {e.summary}{undone}")
        print(f"  {change(e.before, e.after)}")
    if not entries:
        print("no changes yet")


async def _undo(live: LiveConfig, config: Config, args: argparse.Namespace) -> None:
    result = await live.undo(actor=actor())
    print(f"#{result.audit_id} {result.summary}")
    print(f"  {change(result.before, result.after)}")


async def _compact(live: LiveConfig, config: Config, args: argparse.Namespace) -> None:
    if not 0 <= args.keep <= 100_000:
        raise ConfigError(["--keep must be between 0 and 100000"])
    result = await live.compact(actor=actor(), keep_recent=args.keep)
    if not result.remove:
        print(f"nothing to compact: the newest {args.keep} changes are kept as they are")
    else:
        print(f"{result.summary}; {len(result.remove)} row(s) removed")


async def _reload(live: LiveConfig, config: Config, args: argparse.Namespace) -> None:
    current = live.current
    enabled = sum(1 for s in current.sources if s.enabled)
    print(
        f"config OK: {len(current.sources)} sources ({enabled} enabled), "
        f"{len(current.topics)} topics, {current.edits} operator edits on top of the files"
    )
    for reason in current.stale:
        print(f"skipped stored edit {reason}")


_ACTIONS: dict[str, Handler] = {
    "show": _show,
    "export": _export,
    "terms": _terms,
    "testmatch": _testmatch,
    "audit": _audit,
    "undo": _undo,
    "compact": _compact,
    "reload": _reload,
}
_EDITS: dict[str, EditHandler] = {  # addsource, which also checks overlap, is called apart
    **{
        name: _simple
        for name in (
            "removesource",
            "pause",
            "resume",
            "interval",
            "article",
            "addterm",
            "removeterm",
            "addmask",
            "removemask",
            "addveto",
            "removeveto",
        )
    },
}
