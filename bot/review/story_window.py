"""The stories' sliding window: the reports still within reach of a new one, and their index.

`StoryWindow` keeps each report's `Entry` in arrival order, an inverted index from every key
(stem, name skeleton, number, link, signature id) to the reports carrying it, newest last, and
each story's first publication time. It finds a new report's candidates (the reports sharing
most keys, then most signature keys), weighs stems by their inverse document frequency over the
window, and forgets reports that can no longer join anything. Pure and in memory;
`bot.review.stories.Grouper` builds one and decides with it (the rules are in that module).
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import chain, islice
from operator import itemgetter

from bot.review.evidence import Evidence
from bot.review.signature import Signature

SIGNATURE_KEYS = ("a:", "x:", "q:", "m:")  # the prefixes of the signature's keys


@dataclass(slots=True)
class Entry:
    """A report in the window: its evidence, its story and the keys it is indexed under."""

    key: Hashable
    evidence: Evidence
    story: Hashable
    keys: tuple[str, ...]
    act: int | None  # where the title's one-sided act stands (rule 4)
    signature: Signature


@dataclass(slots=True)
class StoryWindow:
    """Reports by key and arrival, the inverted index over their keys, stories' first times."""

    _entries: dict[Hashable, Entry] = field(default_factory=dict)
    _arrival: deque[Hashable] = field(default_factory=deque)
    _index: dict[str, deque[Hashable]] = field(default_factory=dict)
    _first: dict[Hashable, datetime] = field(default_factory=dict)  # story → first published
    _newest: datetime | None = None

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable) -> Entry | None:
        """The report of that key, if it is in the window."""
        return self._entries.get(key)

    def add(self, entry: Entry, published: datetime) -> None:
        """Put a report in the window, indexed under its keys."""
        key, story = entry.key, entry.story
        self._entries[key] = entry
        self._arrival.append(key)
        for k in entry.keys:
            self._index.setdefault(k, deque()).append(key)
        first = self._first.get(story)
        if first is None or published < first:
            self._first[story] = published

    def first(self, story: Hashable, default: datetime) -> datetime:
        """When the story's first report still in the window was published (else `default`)."""
        return self._first.get(story, default)

    def candidates(
        self, keys: tuple[str, ...], *, fanout: int, most: int, by_signature: int
    ) -> list[Entry]:
        """The `most` reports sharing most keys, then the `by_signature` sharing most signature
        keys (which find a report in another language, whose words share nothing), each once;
        only the newest `fanout` reports under each key are counted."""
        fanout, index = max(fanout, 0), self._index
        newest = (islice(reversed(p), fanout) for k in keys if (p := index.get(k)))
        counts = Counter(chain.from_iterable(newest))
        # Stable: equal counts keep their first-counted order (as heapq.nlargest would).
        top = sorted(counts.items(), key=itemgetter(1), reverse=True)[:most]
        chosen = dict.fromkeys(key for key, _ in top)
        signed = (
            islice(reversed(p), fanout)
            for k in keys
            if k[:2] in SIGNATURE_KEYS and (p := index.get(k))
        )
        signed_counts = Counter(chain.from_iterable(signed))
        for key, _ in sorted(signed_counts.items(), key=itemgetter(1), reverse=True)[:by_signature]:
            chosen.setdefault(key)
        return [self._entries[key] for key in chosen]

    def weigh(self, stems: frozenset[str], memo: dict[str, float]) -> None:
        """Put the weight of each of `stems` not yet there into `memo`."""
        # Inverse document frequency over the window: the beat's everyday words weigh little.
        size, postings = len(self._entries) + 1, self._index.get
        for s in stems.difference(memo):
            memo[s] = math.log(1 + size / (len(postings("s:" + s, ())) + 1))

    def df(self, key: str) -> int:
        """How many reports in the window carry the key."""
        posting = self._index.get(key)
        return len(posting) if posting else 0

    def evict(self, published: datetime, reach: timedelta) -> None:
        """Forget reports published more than `reach` before the newest one seen (oldest
        arrivals first): they can no longer join anything."""
        if self._newest is None or published > self._newest:
            self._newest = published
        horizon = self._newest - reach
        while self._arrival:
            entry = self._entries[self._arrival[0]]
            if entry.evidence.published >= horizon:
                break
            self._arrival.popleft()
            del self._entries[entry.key]
            for k in entry.keys:
                posting = self._index[k]
                posting.popleft()  # arrival order everywhere: it is the oldest under each key
                if not posting:
                    del self._index[k]
            if entry.story == entry.key:
                self._first.pop(entry.key, None)
