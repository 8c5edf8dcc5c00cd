"""Stories: reports of the same event, from one outlet or many, grouped as they arrive.

Pure and in memory: `Grouper.add` takes an item's text, time and link and says which story it
belongs to (the key of the story's first report, or its own key when it starts one). The running
bot and `python -m bot stories` use the same `Grouper` with the same `Rules`.

Each report gets its word evidence (`bot.review.evidence`) and its event signature
(`bot.review.signature`: people, act, places, figures, rounds, days, names, as ids that are the
same in every language).

Candidate search is sub-linear: an inverted index maps each stem, name skeleton, number and link,
and each signature id (person, place, act × id, figure, name key) to the reports that carry it,
newest last; only the newest `fanout` reports under each key are looked at; the `candidates`
reports sharing most keys, and the `signature_candidates` sharing most signature keys (a report
in another language shares no words), are compared in full. The cost per report is therefore
bounded by its own size, whatever the window holds. The window, its index and the weights are
`bot.review.story_window.StoryWindow`; this module decides.

Deciding, for a candidate (first rule that applies wins; precision first):
1. further apart than the window (from the candidate, or from the story's first report) → no;
2. the same canonical link → same story;
3. a clear conflict of the signatures (`bot.review.agreement`: another act, other people,
   other figures of one unit, another round, another day, other headline places, subjects or
   numbers) → no;
4. who did what to whom, when neither signature names a person or title to tell it: both titles
   carry a one-sided act (`bot.review.roles`) with the parties swapped → no;
5. the signatures agree: the acts go together and at least `signature_strength` specific
   things are shared (one more when one side names no act), within `signature_gap` (12 h) → yes;
6. else by the words: both carry numbers and share none → no; different languages (by the
   feeds' codes, else by script): only on the same UTC day, with at least two shared rare names
   (by their Latin skeleton) and at least one shared number; same script: IDF-weighted Dice
   similarity over all stems at least `threshold`, *and* over the content stems (not names, not
   the beat's generic words) at least `content`; reports more than `near_gap` apart must reach
   `strict`; and at least `headline` of one title's content words (weighted) must stand in the
   other report.
A join by signature scores 0.5 + 0.1 per shared thing (at most 0.95), plus a tenth of the word
similarity in one language, so the closer of two passing stories wins.
The best-scoring candidate that passes gives the story (the first of equal scores). Once every
candidate left belongs to the story that is best so far, they are not scored: none could change
the answer. Word weights are worked out once per decision; each similarity sums them over the
same sets in the same order every time, so a score does not depend on what was compared before.
"""

from __future__ import annotations

import functools
from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.review.agreement import Agreement, compare
from bot.review.evidence import Evidence, gather
from bot.review.lexicon import Lexicon
from bot.review.roles import roles_swapped, title_act
from bot.review.signature import Signature, sign
from bot.review.story_window import Entry, StoryWindow
from bot.topics.folding import FoldCache, tokenize


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
    # The farthest a join by signature reaches: one event's reports come within hours; the same
    # people doing the same kind of thing the next day is the commonest look-alike.
    signature_gap: timedelta = timedelta(hours=12)
    signature_strength: int = 2  # specific things two signatures must share to join
    signature_candidates: int = 8  # candidates found through signature keys alone


@functools.cache
def default_lexicon() -> Lexicon:
    """The event lexicon without gazetteer entities (built once: it is immutable data)."""
    return Lexicon.build()


@dataclass(slots=True)
class _Probe:
    """The new report as one decision compares it: its sets and weighted totals, worked out once."""

    evidence: Evidence
    signature: Signature
    stems: frozenset[str]
    act: int | None
    weights: dict[str, float]  # stem → IDF weight over the window, filled as candidates need it
    totals: tuple[float, float, float]  # summed weights of its stems, content, title content


@dataclass(slots=True)
class Grouper:
    """Groups reports into stories within a sliding window (see the module docstring)."""

    rules: Rules = field(default_factory=Rules)
    lexicon: Lexicon = field(default_factory=default_lexicon)
    _window: StoryWindow = field(default_factory=StoryWindow)
    _cache: FoldCache = field(default_factory=FoldCache)

    def __len__(self) -> int:
        return len(self._window)

    def story_of(self, key: Hashable) -> Hashable | None:
        """The story of a report still in the window."""
        entry = self._window.get(key)
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
        why: list[Reason] | None = None,
    ) -> Hashable:
        """Index a report and return its story (the key of the story's first report).

        `story` given: the report is indexed under it without deciding (a restart reloading
        stored stories). A key seen before returns its story again. `why` given: a `Reason`
        per candidate compared is appended to it (`python -m bot stories --explain`).
        """
        known = self._window.get(key)
        if known is not None:
            return known.story
        words = (tokenize(title, self._cache), tokenize(summary, self._cache))
        evidence = gather(title, summary, published, url, self._cache, lang, words)
        signature = sign(title, summary, published, self.lexicon, self._cache, words)
        self._window.evict(published, 2 * self.rules.window)
        keys = _keys(evidence) + tuple(signature.keys())
        act = title_act(evidence.title_seq)
        if story is None:
            decided = self._decide(evidence, signature, keys, act, why)
            story = key if decided is None else decided
        self._window.add(Entry(key, evidence, story, keys, act, signature), published)
        return story

    # --- deciding ------------------------------------------------------------------------------

    def _decide(
        self,
        new: Evidence,
        signature: Signature,
        keys: tuple[str, ...],
        act: int | None,
        why: list[Reason] | None,
    ) -> Hashable | None:
        rules = self.rules
        candidates = self._window.candidates(
            keys,
            fanout=rules.fanout,
            most=rules.candidates,
            by_signature=rules.signature_candidates,
        )
        if not candidates:
            return None
        weights: dict[str, float] = {}  # stem → weight, worked out once per decision
        stems = new.stems
        self._window.weigh(stems, weights)
        get = weights.__getitem__
        # Each total is summed over the same set in the same order as a per-candidate sum would
        # be, so every score is the same float to the last bit.
        totals = (
            sum(map(get, stems)),
            sum(map(get, new.content)),
            sum(map(get, new.title_content)),
        )
        probe = _Probe(new, signature, stems, act, weights, totals)
        # Only the best candidate's story is the answer: once it is the story of every candidate
        # left (as when a burst of copies has made one story), no further score can change it.
        last, tail = candidates[-1].story, len(candidates) - 1
        while tail > 0 and candidates[tail - 1].story == last:
            tail -= 1
        best: tuple[float, Hashable] | None = None
        for n, entry in enumerate(candidates):
            if n >= tail and best is not None and best[1] == last and why is None:
                break
            score = self._score(probe, entry, why)
            if score is not None and (best is None or score > best[0]):
                best = (score, entry.story)
        return None if best is None else best[1]

    def _score(self, probe: _Probe, entry: Entry, why: list[Reason] | None) -> float | None:
        """The similarity if `entry` reports the same event as the probe, else None (rules 1–8)."""
        rules, new, old = self.rules, probe.evidence, entry.evidence
        gap = abs(new.published - old.published)
        if gap > rules.window:
            return _tell(why, entry, None, "further apart than the window")
        if abs(new.published - self._window.first(entry.story, old.published)) > rules.window:
            return _tell(why, entry, None, "the story began more than the window before")
        if new.link is not None and new.link == old.link:
            return _tell(why, entry, 2.0, "the same link")
        agreement = compare(
            probe.signature,
            entry.signature,
            self.lexicon,
            self._rare_name,
            explain=why is not None,
        )
        if agreement.conflicts:
            return _tell(why, entry, None, "signature conflicts", agreement)
        by_signature = self._by_signature(agreement, gap)
        swapped = roles_swapped(new.title_seq, probe.act, old.title_seq, entry.act)
        if swapped and not agreement.roles:
            return _tell(why, entry, None, "a one-sided act with the parties swapped", agreement)
        if by_signature is not None:
            # Among candidates that pass, the one whose words are closer wins a tie.
            if new.same_language(old):
                self._window.weigh(old.stems, probe.weights)
                by_signature += 0.1 * _dice(probe.stems, probe.totals[0], old.stems, probe.weights)
            return _tell(why, entry, by_signature, "the signatures agree", agreement)
        words = self._by_words(probe, entry, gap)
        if words is None:
            return _tell(why, entry, None, "too few signature parts agree, words differ", agreement)
        return _tell(why, entry, words, "the words agree", agreement)

    def _by_signature(self, agreement: Agreement, gap: timedelta) -> float | None:
        """Rule 7: the acts agree, nothing conflicts and enough specific things are shared."""
        rules = self.rules
        if gap > rules.signature_gap:
            return None
        # Without an act on one side (a figure with no verb), one more thing must be shared.
        need = rules.signature_strength + (0 if agreement.acts else 1)
        if agreement.strength < need or (not agreement.acts and agreement.act_named):
            return None
        return min(0.95, 0.5 + 0.1 * agreement.strength)

    def _by_words(self, probe: _Probe, entry: Entry, gap: timedelta) -> float | None:
        """Rules 3, 5 and 6: the words (the grouping before signatures)."""
        rules, new, old = self.rules, probe.evidence, entry.evidence
        if new.numbers and old.numbers and not new.numbers & old.numbers:
            return None
        if not new.same_language(old):
            return 1.0 if self._same_day_names(new, old) else None
        weights = probe.weights
        self._window.weigh(old.content, weights)
        if _dice(new.content, probe.totals[1], old.content, weights) < rules.content:
            return None
        stems = old.stems
        self._window.weigh(stems, weights)
        overall = _dice(probe.stems, probe.totals[0], stems, weights)
        if overall < (rules.threshold if gap <= rules.near_gap else rules.strict):
            return None
        if not self._same_act(probe, old, stems):
            return None
        return overall

    def _same_act(self, probe: _Probe, old: Evidence, old_stems: frozenset[str]) -> bool:
        """The headlines tell of the same act: enough of one title's content words (weighted)
        stand somewhere in the other report. Two headlines with no content words pass."""
        title = probe.evidence.title_content
        if not title or not old.title_content:
            return True
        get, headline = probe.weights.__getitem__, self.rules.headline
        if sum(map(get, title & old_stems)) >= headline * probe.totals[2]:
            return True
        total = sum(map(get, old.title_content))
        return sum(map(get, old.title_content & probe.stems)) >= headline * total

    def _same_day_names(self, new: Evidence, old: Evidence) -> bool:
        if new.published.date() != old.published.date() or not new.numbers & old.numbers:
            return False
        limit = max(self.rules.rare_min, self.rules.rare_share * len(self._window))
        rare = [s for s in new.skeletons & old.skeletons if self._window.df("k:" + s) <= limit]
        return len(rare) >= 2

    def _rare_name(self, key: str) -> bool:
        """A name key few reports in the window carry (a name, not a word of the beat)."""
        limit = max(self.rules.rare_min, self.rules.rare_share * len(self._window))
        return self._window.df("m:" + key) <= limit


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a report joined or did not join one candidate (for `--explain`)."""

    candidate: Hashable
    story: Hashable
    score: float | None  # None: not the same event
    verdict: str
    agreed: tuple[str, ...] = ()
    conflicts: tuple[str, ...] = ()


def _tell(
    why: list[Reason] | None,
    entry: Entry,
    score: float | None,
    verdict: str,
    agreement: Agreement | None = None,
) -> float | None:
    """Return `score`, noting the reason in `why` when asked for one."""
    if why is not None:
        agreed, conflicts = (agreement.agreed, agreement.conflicts) if agreement else ((), ())
        why.append(Reason(entry.key, entry.story, score, verdict, agreed, conflicts))
    return score


def _keys(evidence: Evidence) -> tuple[str, ...]:
    keys = [f"s:{s}" for s in sorted(evidence.stems)]
    keys += [f"k:{s}" for s in sorted(evidence.skeletons)]
    keys += [f"n:{n}" for n in sorted(evidence.numbers)]
    if evidence.link:
        keys.append(f"u:{evidence.link}")
    return tuple(keys)


def _dice(a: frozenset[str], total_a: float, b: frozenset[str], weights: dict[str, float]) -> float:
    """IDF-weighted Dice similarity; `total_a` is the summed weight of `a`."""
    if not a or not b:
        return 0.0
    get = weights.__getitem__
    return 2 * sum(map(get, a & b)) / (total_a + sum(map(get, b)))
