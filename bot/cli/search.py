"""`python -m bot search QUERY… [--limit N] [--json] [--flagged] [--sort relevance]` and
`python -m bot alerts list`: the archive search and the operators' view of personal alerts.

`bot.cli.parser` defines their arguments; `COMMANDS` maps each name to its handler (read by
`bot.cli.main`). Exit codes (`bot.cli.exits`): 0 done (also when nothing was
found), 1 the database failed, 2 a malformed query or usage error (one line on standard error).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from bot.app.main import utc_now
from bot.cli.exits import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from bot.config import Config
from bot.errors import BotError
from bot.models import StoredItem
from bot.review.query import QueryError, parse_query
from bot.review.searchresults import group_by_story
from bot.storage.access import DbAccess
from bot.storage.alerts import AlertStore
from bot.storage.engine import make_engine, migrate
from bot.storage.existing import require_existing
from bot.storage.search import SearchHit, SearchStore, Sort
from bot.text.formatting import clean, format_console_time

LIMIT_MAX = 1000


def record(hit: SearchHit) -> dict[str, Any]:
    """The JSON Lines record of one result."""
    item = hit.stored.item
    return {
        "id": hit.stored.id,
        "source": item.source_id,
        "title": item.title,
        "url": item.url,
        "published": item.published.isoformat(),
        "topics": list(hit.stored.topics),
    }


def console(group: list[StoredItem], config: Config) -> str:
    """One story's results as terminal lines (feed strings cleaned of control characters)."""
    lines = []
    for n, stored in enumerate(group):
        item = stored.item
        when = format_console_time(item.published, config.settings.timezone)
        outlet = clean(stored.source_name) or clean(item.source_id)
        topics = f"  [{', '.join(stored.topics)}]" if stored.topics else ""
        lead = "  ↳ " if n else ""
        lines.append(f"{lead}{outlet} · {when}{topics}")
        lines.append(f"{lead}{clean(item.title) or '(untitled)'}")
        lines.append(f"{lead}{clean(item.url)}")
    return "\n".join(lines)


def cmd_search(config: Config, args: argparse.Namespace) -> int:
    """`python -m bot search …`: newest first (or most relevant), stories together."""
    if not 1 <= args.limit <= LIMIT_MAX:
        print(f"--limit must be between 1 and {LIMIT_MAX}", file=sys.stderr)
        return EXIT_USAGE
    text = " ".join(args.query) + (" flagged:" if args.flagged else "")
    try:
        query = parse_query(text, now=utc_now())
    except QueryError as exc:
        print(f"bad query: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        hits = asyncio.run(_search(config, query, args.limit, args.sort))
    except BotError as exc:
        print(f"cannot search: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if args.json:
        for hit in hits:
            print(json.dumps(record(hit), ensure_ascii=False))
        return EXIT_OK
    groups = group_by_story([(h.stored, h.story_id) for h in hits])
    print("\n\n".join(console(g, config) for g in groups) if groups else "nothing found")
    return EXIT_OK


async def _search(config: Config, query: Any, limit: int, sort: Sort) -> list[SearchHit]:
    require_existing(config.settings.database_url)  # read-only: never create it (a typo)
    engine = make_engine(config.settings.database_url)
    try:
        await migrate(engine)
        return await SearchStore(DbAccess(engine)).search(query, limit=limit, sort=sort)
    finally:
        await engine.dispose()


def cmd_alerts(config: Config, args: argparse.Namespace) -> int:
    """`python -m bot alerts list`: how many alerts each chat keeps (never their text)."""
    try:
        counts = asyncio.run(_counts(config))
    except BotError as exc:
        print(f"cannot read alerts: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if not counts:
        print("no alerts")
        return EXIT_OK
    print(f"{'CHAT':>16}  ALERTS")
    for chat_id, n in counts:
        print(f"{chat_id:>16}  {n}")
    print(f"{len(counts)} chat(s), {sum(n for _, n in counts)} alert(s)")
    return EXIT_OK


async def _counts(config: Config) -> list[tuple[int, int]]:
    require_existing(config.settings.database_url)
    engine = make_engine(config.settings.database_url)
    try:
        await migrate(engine)
        return await AlertStore(DbAccess(engine)).counts()
    finally:
        await engine.dispose()


COMMANDS = {"search": cmd_search, "alerts": cmd_alerts}
