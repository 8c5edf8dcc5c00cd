"""`python -m bot labels export|import` and `python -m bot match --score FILE`.

- `labels export [--since DURATION] [--topic ID] [--with-people]`: the desk's labels as JSON Lines
  on standard output (format: `bot.operator.labels`); no chat id, user id or name without
  `--with-people`.
- `labels import FILE` (or `-`): labels read back into DATABASE_URL (another instance, a restore);
  bad lines are reported on stderr and the rest imported.
- `match --score FILE [--json]`: precision, recall and F1 of today's configuration (the files with
  the operators' stored edits on top) on a labelled JSON Lines file, with the misses and false
  alarms and their evidence (`bot.topics.labelled`). Exit 0 once scored, 1 when some lines were
  bad, 2 when the file cannot be read.

Exit codes: `bot.cli.exits` (`labels` answers 2 when refused: a bad --since, the database).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.cli.exits import EXIT_BAD_INPUT, EXIT_OK, EXIT_USAGE
from bot.config import Config
from bot.errors import ConfigError, StoreError
from bot.models import Topic
from bot.operator.labels import export_line, read_import
from bot.operator.live import LiveConfig
from bot.storage.engine import make_engine, migrate
from bot.storage.labels import LabelStore
from bot.storage.overlay import OverlayStore
from bot.text.durations import parse_duration
from bot.topics.labelled import read_labelled, report_json, report_lines
from bot.topics.matcher import compile_topics
from bot.topics.scoring import score


def register(subparsers: Any) -> None:
    """Add the `labels` command and its actions to the parser's subparsers (`bot.cli.parser`)."""
    labels = subparsers.add_parser("labels", help="the desk's relevance labels as JSON Lines")
    sub = labels.add_subparsers(dest="labels_command", required=True, metavar="ACTION")
    export = sub.add_parser("export", help="write the labels as JSON Lines to standard output")
    export.add_argument("--since", metavar="DURATION", help="only labels of the last 7d, 12h …")
    export.add_argument("--topic", metavar="ID", help="only items pushed for this topic")
    export.add_argument(
        "--with-people", action="store_true", help="include who voted, and in which chat"
    )
    load = sub.add_parser("import", help="read labels from JSON Lines (an export, the dev set)")
    load.add_argument("file", metavar="FILE", help="a JSON Lines file, or - for standard input")


def cmd_labels(config: Config, args: argparse.Namespace) -> int:
    """Run one `labels` action; 0 done, 1 some lines were bad, 2 refused or unreadable."""
    try:
        if args.labels_command == "export":
            since = _since(args.since)
            return asyncio.run(_export(config, since, args.topic, args.with_people))
        return _import(config, args.file)
    except (ConfigError, StoreError) as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _since(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.now(UTC) - timedelta(seconds=parse_duration(text))
    except ValueError as exc:
        raise ConfigError([f"--since: {exc}"]) from exc


async def _export(
    config: Config, since: datetime | None, topic: str | None, with_people: bool
) -> int:
    engine = make_engine(config.settings.database_url)
    try:
        await migrate(engine)
        found = await LabelStore(engine).labelled(since=since, topic=topic)
    finally:
        await engine.dispose()
    for item in found:
        sys.stdout.write(json.dumps(export_line(item, with_people=with_people), ensure_ascii=False))
        sys.stdout.write("\n")
    print(f"exported {len(found)} labelled item(s)", file=sys.stderr)
    return EXIT_OK


def _import(config: Config, path: str) -> int:
    now = datetime.now(UTC)
    try:
        if path == "-":
            new, bad, unlabelled = read_import(sys.stdin, now=now)
        else:
            with open(path, encoding="utf-8") as fh:
                new, bad, unlabelled = read_import(fh, now=now)
    except OSError as exc:
        print(f"cannot read {path}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    for line in bad:
        print(f"line {line.line}: {line.error}", file=sys.stderr)
    written, skipped = asyncio.run(_store(config, new, now))
    print(
        f"imported {written} labelled item(s)"
        + (f"; {skipped} skipped (already labelled by people here)" if skipped else "")
        + (f"; {unlabelled} without a true/false label" if unlabelled else "")
        + (f"; {len(bad)} bad line(s)" if bad else ""),
        file=sys.stderr,
    )
    return EXIT_BAD_INPUT if bad else EXIT_OK


async def _store(config: Config, new: Sequence[Any], now: datetime) -> tuple[int, int]:
    engine = make_engine(config.settings.database_url)
    try:
        await migrate(engine)
        return await LabelStore(engine).add(new, now=now)
    finally:
        await engine.dispose()


def cmd_score(config: Config, path: str, *, as_json: bool) -> int:
    """`match --score FILE`: score today's configuration on the labelled file."""
    try:
        if path == "-":
            file = read_labelled(sys.stdin)
        else:
            with open(path, encoding="utf-8") as fh:
                file = read_labelled(fh)
    except OSError as exc:
        print(f"cannot read {path}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    result = score(compile_topics(asyncio.run(_topics(config))), file.items)
    if as_json:
        print(json.dumps(report_json(result, file), ensure_ascii=False))
    else:
        print("\n".join(report_lines(result, file)))
    return EXIT_BAD_INPUT if file.bad else EXIT_OK


async def _topics(config: Config) -> tuple[Topic, ...]:
    """Today's topics: the files with the operators' stored edits; the files alone (said on
    stderr) when the database cannot be read."""
    try:
        engine = make_engine(config.settings.database_url)
        try:
            await migrate(engine)
            live = LiveConfig(
                config_dir=config.settings.config_dir,
                overlay=OverlayStore(engine),
                clock=lambda: datetime.now(UTC),
            )
            return (await live.load()).topics
        finally:
            await engine.dispose()
    except StoreError as exc:
        print(f"note: scoring the config files without operator edits: {exc}", file=sys.stderr)
        return tuple(config.topics)
