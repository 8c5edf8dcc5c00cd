"""Stories: reports of the same event, from one outlet or many, grouped as they arrive.

Pure and in memory: `Grouper.add` takes an item's text, time and link and says which story it
belongs to (the key of the story's first report, or its own key when it starts one). The running
bot and `python -m bot stories` use the same `Grouper` with the same `Rules`.

Candidate search is sub-linear: an inverted index maps each stem, name skeleton, number and link
to the reports that carry it, newest last; only the newest `fanout` reports under each key are
looked at, and only the `candidates` reports sharing most keys are compared in full. The cost
per report is therefore bounded by its own size, whatever the window holds.

Deciding, for a candidate (first rule that applies wins; precision first):
1. further apart than the window (from the candidate, or from the story's first report) → no;
2. the same canonical link → same story;
3. both carry numbers and share none (a $500m deal is not a $2bn one) → no;
4. who did what to whom: both titles carry a one-sided act (summon, expel, accuse, protest …
   in four languages) and a party both name stands before the act in one and after it in the
   other ("Iran summons Azerbaijan's envoy" / "Azerbaijan summons Iran's envoy") → no;
5. different languages (by the feeds' codes, else by script): only on the same UTC day, with at least two shared rare names (by their
   Latin skeleton) and at least one shared number;
6. same script: IDF-weighted Dice similarity over all stems at least `threshold`, *and* over
   the content stems (not names, not the beat's generic words) at least `content` — shared
   names alone never make a story (a gas meeting and a rail meeting of the same ministers);
   reports more than `near_gap` apart must reach `strict` (a second phone call between the
   same presidents two days later reads much like the first); and at least `headline` of one
   title's content words (weighted) must stand in the other report: the headline says what
   happened, and a gas meeting and a rail meeting written from one template differ there.
The best-scoring candidate that passes gives the story.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter, deque
from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from operator import itemgetter

from bot.review.evidence import Evidence, gather
from bot.topics.folding import FoldCache

# Prefixes (folded) of one-sided acts: the actor and the target cannot be swapped.
_ONE_SIDED = (
    "summon", "expel", "accus", "condem", "protest", "recall", "sanction", "deport",
    "вызва", "вызов", "высла", "высыл", "обвин", "осуд", "протест", "отозва",
    "cagir", "ittiham", "etiraz", "qinad", "sanksiya",
    "احضار", "اخراج", "اعتراض", "محکوم", "متهم", "فراخوان",
)  # fmt: skip
_PARTY = 4  # letters of a title word compared as a party of an act ("Iran", "Iranian")


@dataclass(frozen=True, slots=True)
class Rules:
    """Thresholds of the grouping (see the module docstring); the defaults are the bot's."""

    window: timedelta = timedelta(hours=48)
    near_gap: timedelta = timedelta(hours=12)
    threshold: float = 0.42
    content: float = 0.3
    strict: float = 0.75
    headline: float = 0.3  # share of a title's content words the other report must carry
    fanout: int = 64
    candidates: int = 24
    rare_share: float = 0.05  # a name is rare when at most this share of the window has it ...
    rare_min: int = 10  # ... or at most this many reports


@dataclass(slots=True)
class _Entry:
    key: Hashable
    evidence: Evidence
    story: Hashable
    keys: tuple[str, ...]


@dataclass(slots=True)
class Grouper:
    """Groups reports into stories within a sliding window (see the module docstring)."""

    rules: Rules = field(default_factory=Rules)
    _entries: dict[Hashable, _Entry] = field(default_factory=dict)
    _arrival: deque[Hashable] = field(default_factory=deque)
    _index: dict[str, deque[Hashable]] = field(default_factory=dict)
    _first: dict[Hashable, datetime] = field(default_factory=dict)  # story → first published
    _newest: datetime | None = None
    _cache: FoldCache = field(default_factory=FoldCache)

    def __len__(self) -> int:
        return len(self._entries)

    def story_of(self, key: Hashable) -> Hashable | None:
        """The story of a report still in the window."""
        entry = self._entries.get(key)
        return entry.story if entry else None

    def add(
        self,
        key: Hashable,
        *,
        title: str,
        summary: str,
        published: datetime,
        url: str | None = None,
        lang: str | None = None,
        story: Hashable | None = None,
    ) -> Hashable:
        """Index a report and return its story (the key of the story's first report).

        `story` given: the report is indexed under it without deciding (a restart reloading
        stored stories). A key seen before returns its story again.
        """
        known = self._entries.get(key)
        if known is not None:
            return known.story
        evidence = gather(title, summary, published, url, self._cache, lang)
        self._evict(published)
        if story is None:
            decided = self._decide(evidence)
            story = key if decided is None else decided
        keys = _keys(evidence)
        self._entries[key] = _Entry(key, evidence, story, keys)
        self._arrival.append(key)
        for k in keys:
            self._index.setdefault(k, deque()).append(key)
        first = self._first.get(story)
        if first is None or published < first:
            self._first[story] = published
        return story

    # --- deciding ------------------------------------------------------------------------------

    def _decide(self, new: Evidence) -> Hashable | None:
        best: tuple[float, Hashable] | None = None
        weights: dict[str, float] = {}  # stem → weight, worked out once per decision
        for entry in self._candidates(new):
            score = self._score(new, entry, weights)
            if score is not None and (best is None or score > best[0]):
                best = (score, entry.story)
        return None if best is None else best[1]

    def _candidates(self, new: Evidence) -> list[_Entry]:
        counts: Counter[Hashable] = Counter()
        fanout = self.rules.fanout
        for k in _keys(new):
            posting = self._index.get(k)
            if posting:
                for n, key in enumerate(reversed(posting)):
                    if n >= fanout:
                        break
                    counts[key] += 1
        top = heapq.nlargest(self.rules.candidates, counts.items(), key=itemgetter(1))
        return [self._entries[key] for key, _ in top]

    def _score(self, new: Evidence, entry: _Entry, weights: dict[str, float]) -> float | None:
        """The similarity if `entry` reports the same event as `new`, else None (rules 1–6)."""
        rules, old = self.rules, entry.evidence
        first = self._first.get(entry.story, old.published)
        if abs(new.published - old.published) > rules.window:
            return None
        if abs(new.published - first) > rules.window:
            return None
        if new.link is not None and new.link == old.link:
            return 2.0
        if new.numbers and old.numbers and not new.numbers & old.numbers:
            return None
        if _roles_swapped(new.title_seq, old.title_seq):
            return None
        if not new.same_language(old):
            return 1.0 if self._same_day_names(new, old) else None
        overall = self._dice(new.stems, old.stems, weights)
        content = self._dice(new.content, old.content, weights)
        near = abs(new.published - old.published) <= rules.near_gap
        if overall < (rules.threshold if near else rules.strict) or content < rules.content:
            return None
        if not self._same_act(new, old, weights):
            return None
        return overall

    def _same_act(self, a: Evidence, b: Evidence, weights: dict[str, float]) -> bool:
        """The headlines tell of the same act: enough of one title's content words (weighted)
        stand somewhere in the other report. Two headlines with no content words pass."""
        if not a.title_content or not b.title_content:
            return True
        for title, other in ((a.title_content, b.stems), (b.title_content, a.stems)):
            total = sum(self._weight(s, weights) for s in title)
            shared = sum(self._weight(s, weights) for s in title & other)
            if shared >= self.rules.headline * total:
                return True
        return False

    def _same_day_names(self, new: Evidence, old: Evidence) -> bool:
        if new.published.date() != old.published.date() or not new.numbers & old.numbers:
            return False
        limit = max(self.rules.rare_min, self.rules.rare_share * len(self._entries))
        rare = [s for s in new.skeletons & old.skeletons if self._df("k:" + s) <= limit]
        return len(rare) >= 2

    def _dice(self, a: frozenset[str], b: frozenset[str], weights: dict[str, float]) -> float:
        if not a or not b:
            return 0.0
        weight = self._weight
        shared = sum(weight(s, weights) for s in a & b)
        total = sum(weight(s, weights) for s in a) + sum(weight(s, weights) for s in b)
        return 2 * shared / total

    def _weight(self, stem: str, memo: dict[str, float]) -> float:
        # Inverse document frequency over the window: the beat's everyday words weigh little.
        found = memo.get(stem)
        if found is None:
            ratio = (len(self._entries) + 1) / (self._df("s:" + stem) + 1)
            found = memo[stem] = math.log(1 + ratio)
        return found

    def _df(self, key: str) -> int:
        posting = self._index.get(key)
        return len(posting) if posting else 0

    # --- the window ----------------------------------------------------------------------------

    def _evict(self, published: datetime) -> None:
        """Forget reports that can no longer join anything (oldest arrivals first)."""
        if self._newest is None or published > self._newest:
            self._newest = published
        horizon = self._newest - 2 * self.rules.window
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


def _keys(evidence: Evidence) -> tuple[str, ...]:
    keys = [f"s:{s}" for s in sorted(evidence.stems)]
    keys += [f"k:{s}" for s in sorted(evidence.skeletons)]
    keys += [f"n:{n}" for n in sorted(evidence.numbers)]
    if evidence.link:
        keys.append(f"u:{evidence.link}")
    return tuple(keys)


def _roles_swapped(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """True when both titles tell of a one-sided act whose sides are swapped (rule 4)."""
    act_a, act_b = _act(a), _act(b)
    if act_a is None or act_b is None:
        return False
    sides_a = _sides(a, act_a)
    sides_b = _sides(b, act_b)
    return any(sides_b.get(party, side) != side for party, side in sides_a.items())


def _act(words: tuple[str, ...]) -> int | None:
    for n, word in enumerate(words):
        if word.startswith(_ONE_SIDED):
            return n
    return None


def _sides(words: tuple[str, ...], act: int) -> dict[str, bool]:
    """Party → stands before the act; a word on both sides is no evidence and is left out."""
    sides: dict[str, bool] = {}
    both: set[str] = set()
    for n, word in enumerate(words):
        if n == act or word.startswith(_ONE_SIDED):
            continue
        party, before = word[:_PARTY], n < act
        if sides.get(party, before) != before:
            both.add(party)
        sides[party] = before
    return {p: s for p, s in sides.items() if p not in both}
