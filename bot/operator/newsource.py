"""Checks on a source before an operator adds it (`/addsource`, `config addsource`).

- `new_source_problems`: the id and the URL judged by the files' own rules
  (`bot.feeds.sources.sources_from_data`) before anything is fetched, every problem at once in plain
  words ("id 'bad_ID!': must be a slug …", "URL 'notaurl': must be an http:// or https:// URL").
- `duplicate_of`: whether most of the probed feed's item links are already stored under one other
  source: then it is that feed again under another address (`…/feed.xml?x=1` beside
  `…/feed.xml`), and adding it would show every report of the outlet twice. Pure: the counts come
  from `bot.storage.overlap.FeedOverlap`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.errors import ConfigError
from bot.feeds.sources import sources_from_data

MOST = 0.5  # more than this share of the feed's links stored under one source: a duplicate
MIN_LINKS = 2  # a feed with fewer distinct links says too little to judge
_FIELDS = {"id": "id", "url": "URL"}


def new_source_problems(source_id: str, url: str) -> list[str]:
    """What is wrong with the id and the URL of a new source, each in one line ([] if nothing)."""
    entry = {"id": source_id, "name": source_id or "new", "url": url}
    try:
        sources_from_data({"sources": [entry]}, "new")
    except ConfigError as exc:
        problems = []
        for problem in exc.problems:
            # "new: source 'x': url: must be …" → "URL 'notaurl': must be …"
            _, _, rest = problem.partition(": ")
            _, _, rest = rest.partition(": ")
            field, _, why = rest.partition(": ")
            value = entry.get(field, "")
            problems.append(f"{_FIELDS.get(field, field)} {value!r}: {why}")
        return problems
    return []


@dataclass(frozen=True, slots=True)
class Duplicate:
    """The source that already holds most of a probed feed's items."""

    source_id: str
    shared: int  # distinct links of the feed it holds
    total: int  # distinct links of the feed

    def describe(self, name: str | None = None) -> str:
        """One line: "8 of its 10 items are already stored under source 'b' (B News)"."""
        who = f"source '{self.source_id}'" + (f" ({name})" if name else "")
        return f"{self.shared} of its {self.total} items are already stored under {who}"


def duplicate_of(
    links: Sequence[str], holders: Mapping[str, int], *, new_id: str
) -> Duplicate | None:
    """The other source holding more than `MOST` of the distinct `links`, if any."""
    total = len(set(links))
    if total < MIN_LINKS:
        return None
    best = max(
        ((sid, n) for sid, n in holders.items() if sid != new_id),
        key=lambda pair: (pair[1], pair[0]),
        default=None,
    )
    if best is None or best[1] <= MOST * total:
        return None
    return Duplicate(best[0], best[1], total)
