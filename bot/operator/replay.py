"""Replaying the stored edit log over the files, and validating the result (pure, no I/O).

`replay` applies the stored edits leniently: an edit whose goal the files already meet is a no-op,
one that can no longer apply is skipped and listed as stale with why. `validate` runs the rules the
files themselves pass (`sources_from_data`, `topics_from_data`) and lists every problem at once.
`bot.operator.live.LiveConfig` uses these for loads, edits, undos and compaction checks.
"""

from __future__ import annotations

from bot.errors import ConfigError
from bot.feeds.sources import sources_from_data
from bot.models import Source, Topic
from bot.operator.compaction import unordered
from bot.operator.edits import ConfigData, Edit, apply_edit, from_json
from bot.storage.overlay import ChangeRow
from bot.topics.config import topics_from_data


def validate(
    data: ConfigData, sources_origin: str, topics_origin: str
) -> tuple[tuple[Source, ...], tuple[Topic, ...]]:
    """The records the files' own rules make of `data`; one ConfigError lists every problem."""
    problems: list[str] = []
    sources: tuple[Source, ...] = ()
    topics: tuple[Topic, ...] = ()
    try:
        sources = sources_from_data(data.sources, sources_origin)
    except ConfigError as exc:
        problems += exc.problems
    try:
        topics = topics_from_data(data.topics, topics_origin)
    except ConfigError as exc:
        problems += exc.problems
    if problems:
        raise ConfigError(problems)
    return sources, topics


def comparable(base: ConfigData, rows: list[ChangeRow]) -> tuple[object, ...]:
    """What the rows replayed over the files give, as the matcher sees it (or why it is invalid).

    Compaction compares these: term order within a topic group carries no meaning.
    """
    try:
        sources, topics = validate(replay(base, rows)[0], "", "")
        return sources, unordered(topics)
    except ConfigError as exc:
        return tuple(exc.problems)


def edit_of(row: ChangeRow) -> Edit | None:
    """The edit a stored row records, or None if it records none or cannot be read."""
    try:
        return from_json(row.edit) if row.edit is not None else None
    except ValueError:
        return None


def replay(base: ConfigData, rows: list[ChangeRow]) -> tuple[ConfigData, tuple[str, ...]]:
    """The files with the stored edits applied leniently; edits that cannot apply are skipped."""
    data, stale = _replay_each(base, rows, check=False)
    try:
        validate(data, "", "")
    except ConfigError:
        # Some edit clashes with the files as they are now: find which, one edit at a time.
        data, stale = _replay_each(base, rows, check=True)
    return data, stale


def _replay_each(
    base: ConfigData, rows: list[ChangeRow], *, check: bool
) -> tuple[ConfigData, tuple[str, ...]]:
    data, stale = base, []
    for row in rows:
        edit = edit_of(row)
        if edit is None:
            stale.append(f"#{row.id} {row.summary}: not a readable edit")
            continue
        try:
            candidate = apply_edit(data, edit, strict=False)
            if check:
                validate(candidate, "", "")
        except ConfigError as exc:
            reasons = "; ".join(p.removeprefix(": ") for p in exc.problems)
            stale.append(f"#{row.id} {row.summary}: {reasons}")
            continue
        data = candidate
    return data, tuple(stale)
