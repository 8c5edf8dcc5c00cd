"""Topic matching: which configured topics an item is about, and the evidence for each.

Rule order, for every topic, on the title and the summary separately:

1. mask — phrases in `masks` are taken out of the text ("East Azerbaijan" is an Iranian province,
   not the Republic); no other term can match inside a masked phrase;
2. tokenize — the rest is folded and split into words by `bot.topics.folding`;
3. hits — the terms of every group and of `vetoes`, `list_terms` and `joint_terms` are found on
   word boundaries; a term ending in `*` is a prefix stem, a term of several words is a phrase
   (each word may be a stem) that must not span punctuation other than hyphens and dashes;
4. enumeration discount — `list_min` or more list names joined by commas or a conjunction
   ("Iran, South Korea and Italy") form an enumeration; a group hit inside one is incidental and
   does not count, and an enumeration that by itself names every required group makes the item a
   roundup, which does not match. An enumeration whose sentence also holds a joint term
   ("Azerbaijan, Iran and Russia sign a corridor deal") names the parties to one act: it is
   neither discounted nor a roundup, and its names count like any other mention;
5. veto — any veto term present means no match;
6. require — every group named in `require` needs at least one counted hit.

Terms are indexed once by their first word (a dict for whole words, a dict per stem length for
stems), so matching costs a few lookups per word of text however many terms are configured.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.errors import ConfigError
from bot.models import TermHit, Topic, TopicMatch
from bot.topics.folding import FoldCache, Token, tokenize

MIN_STEM = 3  # a shorter stem would match half the dictionary
FIELDS = ("title", "summary")
MASK, VETO, LIST, JOINT = "masks", "vetoes", "list_terms", "joint_terms"  # non-group roles

# Words that join the names of an enumeration, in the bot's languages; the rest of a gap
# between two names may hold only commas, "&" and spaces.
_JOINERS = frozenset({"and", "or", "и", "или", "а", "также", "və", "ve", "ya", "yaxud", "و", "یا"})
_LIST_PUNCT = frozenset(",،、&")
# A gap holding one of these ends a sentence; "." only with a space after it, so that "U.S" or
# "3.5" do not. A joint term must stand in the enumeration's own sentence: "Farms in Iran,
# Azerbaijan and Russia cannot keep up. Russia signed a deal with Egypt." stays a roundup.
_SENTENCE_END = frozenset("!?;…؟|\n")

Word = tuple[str, bool]  # folded word, is a prefix stem


def parse_term(term: str) -> tuple[Word, ...]:
    """Fold a configured term into its words; raise ValueError when it could not match sensibly."""
    if not term.strip():
        raise ValueError("empty term")
    words: list[Word] = []
    for raw in term.split():
        stem = raw.endswith("*")
        core = raw[:-1] if stem else raw
        if "*" in core:
            raise ValueError(f"{term!r}: '*' may only end a word")
        folded = [t.norm for t in tokenize(core)]
        if not folded:
            raise ValueError(f"{term!r}: {raw!r} has no letters or digits")
        if stem and len(folded[-1]) < MIN_STEM:
            raise ValueError(f"{term!r}: a stem needs at least {MIN_STEM} letters before '*'")
        words.extend((w, False) for w in folded[:-1])
        words.append((folded[-1], stem))
    return tuple(words)


@dataclass(frozen=True, slots=True)
class _Pattern:
    topic: int
    role: str  # a group name, or MASK, VETO, LIST
    term: str  # as configured
    words: tuple[Word, ...]


@dataclass(frozen=True, slots=True)
class _Found:
    pattern: _Pattern
    field: str
    first: int  # token indexes, end exclusive
    last: int
    text: str  # as written

    def hit(self) -> TermHit:
        return TermHit(self.pattern.role, self.pattern.term, self.field, self.text)


@dataclass(frozen=True, slots=True)
class Enumeration:
    """A run of list names joined by commas or conjunctions, as written, with its names."""

    field: str
    text: str
    names: tuple[str, ...]
    joint: tuple[str, ...] = ()  # joint terms in its sentence, as written: any makes it a deal


@dataclass(frozen=True, slots=True)
class TopicExplanation:
    """Everything the rules saw for one topic on one item, for /testmatch and for debugging."""

    topic_id: str
    topic_name: str
    matched: bool
    reason: str  # one line: why it matched or did not
    hits: tuple[TermHit, ...]  # group hits that counted
    missing: tuple[str, ...]  # required groups without a counted hit
    masked: tuple[TermHit, ...]  # group MASK: phrases taken out before matching
    vetoes: tuple[TermHit, ...]  # group VETO: veto terms present
    discounted: tuple[TermHit, ...]  # group hits that stood inside an enumeration
    enumerations: tuple[Enumeration, ...]
    roundup: bool  # an enumeration alone named every required group

    def hits_by_group(self) -> dict[str, list[str]]:
        """Group name → distinct configured terms that counted, in first-seen order."""
        return TopicMatch(self.topic_id, self.hits).terms_by_group()

    def lines(self) -> tuple[str, ...]:
        """A plain-text rendering, one fact per line."""
        out = [f"{self.topic_id}: {'MATCH' if self.matched else 'no match'} ({self.reason})"]
        out += [f"  {h.group}: {h.term} in {h.field}: {h.text!r}" for h in self.hits]
        out += [f"  masked: {h.term} in {h.field}: {h.text!r}" for h in self.masked]
        out += [f"  veto: {h.term} in {h.field}: {h.text!r}" for h in self.vetoes]
        out += [
            f"  listed: {e.field}: {e.text!r} ({len(e.names)} names"
            + (f"; joint: {', '.join(map(repr, e.joint))})" if e.joint else ")")
            for e in self.enumerations
        ]
        out += [
            f"  discounted {h.group}: {h.term} in {h.field}: {h.text!r}" for h in self.discounted
        ]
        if self.missing:
            out.append(f"  missing: {', '.join(self.missing)}")
        return tuple(out)


@dataclass(frozen=True, slots=True)
class _Doc:
    texts: dict[str, str]  # field → original text
    tokens: dict[str, tuple[Token, ...]]  # field → its words


class _Index:
    """Patterns by first word: whole words in one dict, stems in one dict per prefix length."""

    def __init__(self, patterns: Iterable[_Pattern]) -> None:
        self.exact: dict[str, list[_Pattern]] = {}
        self.stems: dict[str, list[_Pattern]] = {}
        lengths: set[int] = set()
        for p in patterns:
            word, stem = p.words[0]
            (self.stems if stem else self.exact).setdefault(word, []).append(p)
            if stem:
                lengths.add(len(word))
        self.stem_lengths = tuple(sorted(lengths))

    def scan(self, field: str, text: str, tokens: Sequence[Token]) -> list[_Found]:
        found: list[_Found] = []
        for i, tok in enumerate(tokens):
            norm = tok.norm
            candidates = list(self.exact.get(norm, ()))
            for n in self.stem_lengths:
                if n > len(norm):
                    break
                candidates += self.stems.get(norm[:n], ())
            for p in candidates:
                last = _phrase_end(p.words, tokens, i)
                if last:
                    span = text[tok.start : tokens[last - 1].end]
                    found.append(_Found(p, field, i, last, span))
        return found


def _phrase_end(words: tuple[Word, ...], tokens: Sequence[Token], first: int) -> int:
    """End (exclusive) of the phrase that starts at `first`, or 0 when the rest does not match."""
    j = first + 1
    for word, stem in words[1:]:
        if j >= len(tokens) or not tokens[j].joined:
            return 0
        norm = tokens[j].norm
        if not (norm.startswith(word) if stem else norm == word):
            return 0
        j += 1
    return j


def _joins(tokens: Sequence[Token], end: int, start: int) -> bool:
    """True when tokens[end:start] and the gaps around them join two names of a list."""
    words = [t.norm for t in tokens[end:start]]
    if any(w not in _JOINERS for w in words):
        return False
    gaps = "".join(t.gap for t in tokens[end : start + 1])
    if any(not c.isspace() and c not in _LIST_PUNCT for c in gaps):
        return False
    return bool(words) or any(c in _LIST_PUNCT for c in gaps)


def _enumerations(
    found: Sequence[_Found], tokens: Sequence[Token], list_min: int
) -> list[tuple[int, int, list[_Found]]]:
    """Runs of at least `list_min` list names: (first token, end token, the names)."""
    names = sorted(found, key=lambda f: (f.first, -f.last))
    runs: list[list[_Found]] = []
    for f in names:
        if runs and f.first < runs[-1][-1].last:  # overlaps the previous name: one name
            continue
        if runs and _joins(tokens, runs[-1][-1].last, f.first):
            runs[-1].append(f)
        else:
            runs.append([f])
    return [(r[0].first, r[-1].last, r) for r in runs if len(r) >= list_min]


def _breaks_sentence(gap: str) -> bool:
    if any(c in _SENTENCE_END for c in gap):
        return True
    dot = gap.find(".")
    return dot >= 0 and any(c.isspace() for c in gap[dot:])


def _sentence(tokens: Sequence[Token], first: int, last: int) -> tuple[int, int]:
    """Token bounds (end exclusive) of the sentence that holds tokens[first:last]."""
    start = first
    while start > 0 and not _breaks_sentence(tokens[start].gap):
        start -= 1
    end = last
    while end < len(tokens) and not _breaks_sentence(tokens[end].gap):
        end += 1
    return start, end


def _dedupe(hits: Iterable[TermHit]) -> tuple[TermHit, ...]:
    return tuple(dict.fromkeys(hits))


class Matcher:
    """Compiled topics: call `match` per item, or `explain` to see every rule's evidence."""

    def __init__(self, topics: Sequence[Topic], index: _Index) -> None:
        self._topics = tuple(topics)
        self._index = index
        self._fold = FoldCache()

    @property
    def topics(self) -> tuple[Topic, ...]:
        """The topics this matcher was compiled from, in order."""
        return self._topics

    def _scan(self, title: str, summary: str) -> tuple[_Doc, list[_Found]]:
        doc = _Doc({"title": title, "summary": summary}, {})
        found: list[_Found] = []
        for field in FIELDS:
            text = doc.texts[field]
            doc.tokens[field] = tokenize(text, self._fold)
            found += self._index.scan(field, text, doc.tokens[field])
        return doc, found

    def match(
        self, title: str, summary: str, language: str | None = None
    ) -> tuple[TopicMatch, ...]:
        """The topics the item matches, each with the hits that explain it."""
        # `language` is accepted for callers that know it; folding is language-independent.
        del language
        doc, found = self._scan(title, summary)
        by_topic = _by_topic(found)
        out: list[TopicMatch] = []
        for n, topic in enumerate(self._topics):
            mine = by_topic.get(n)
            # Cheap pre-check: a topic whose required groups are not all hit cannot match.
            if not mine or not set(topic.require) <= {f.pattern.role for f in mine}:
                continue
            verdict = _evaluate(topic, doc, mine)
            if verdict.matched:
                out.append(TopicMatch(topic.id, verdict.hits))
        return tuple(out)

    def explain(
        self, title: str, summary: str, language: str | None = None
    ) -> tuple[TopicExplanation, ...]:
        """Every topic's verdict on the item, with hits, masks, vetoes and enumerations."""
        del language
        doc, found = self._scan(title, summary)
        by_topic = _by_topic(found)
        return tuple(
            _evaluate(topic, doc, by_topic.get(n, [])) for n, topic in enumerate(self._topics)
        )


def _by_topic(found: Iterable[_Found]) -> dict[int, list[_Found]]:
    out: dict[int, list[_Found]] = {}
    for f in found:
        out.setdefault(f.pattern.topic, []).append(f)
    return out


def _evaluate(topic: Topic, doc: _Doc, found: Sequence[_Found]) -> TopicExplanation:
    masks = [f for f in found if f.pattern.role == MASK]
    masked_at = {(f.field, i) for f in masks for i in range(f.first, f.last)}
    live = [
        f
        for f in found
        if f.pattern.role != MASK
        and not any((f.field, i) in masked_at for i in range(f.first, f.last))
    ]
    groups = [f for f in live if f.pattern.role not in (VETO, LIST, JOINT)]
    vetoes = [f for f in live if f.pattern.role == VETO]
    enumerations: list[Enumeration] = []
    discounted: list[_Found] = []
    roundup = False
    for field in FIELDS:
        names = [f for f in live if f.pattern.role == LIST and f.field == field]
        tokens = doc.tokens[field]
        joints = [f for f in live if f.pattern.role == JOINT and f.field == field]
        for first, last, run in _enumerations(names, tokens, topic.list_min):
            start, end = _sentence(tokens, first, last)
            joint = tuple(dict.fromkeys(j.text for j in joints if start <= j.first < end))
            text = doc.texts[field][tokens[first].start : tokens[last - 1].end]
            enumerations.append(Enumeration(field, text, tuple(f.text for f in run), joint))
            if joint:
                continue
            inside = [g for g in groups if g.field == field and first <= g.first and g.last <= last]
            discounted += inside
            roundup = roundup or set(topic.require) <= {g.pattern.role for g in inside}
    counted = [g for g in groups if g not in discounted]
    present = {g.pattern.role for g in counted}
    missing = tuple(r for r in topic.require if r not in present)
    if roundup:
        reason = "roundup: one enumeration names every required group"
    elif vetoes:
        reason = f"veto: {vetoes[0].pattern.term}"
    elif missing:
        reason = f"missing: {', '.join(missing)}"
    else:
        reason = "every required group matched"
    return TopicExplanation(
        topic_id=topic.id,
        topic_name=topic.name,
        matched=not (roundup or vetoes or missing),
        reason=reason,
        hits=_dedupe(g.hit() for g in counted),
        missing=missing,
        masked=_dedupe(f.hit() for f in masks),
        vetoes=_dedupe(f.hit() for f in vetoes),
        discounted=_dedupe(f.hit() for f in discounted),
        enumerations=tuple(enumerations),
        roundup=roundup,
    )


def compile_topics(topics: Sequence[Topic]) -> Matcher:
    """Compile topics into a Matcher; raise ConfigError listing every term that cannot compile."""
    patterns: list[_Pattern] = []
    problems: list[str] = []
    for n, topic in enumerate(topics):
        roles: list[tuple[str, tuple[str, ...]]] = [(g.name, g.terms) for g in topic.groups]
        roles += [(MASK, topic.masks), (VETO, topic.vetoes), (LIST, topic.list_terms)]
        roles.append((JOINT, topic.joint_terms))
        for role, terms in roles:
            for term in terms:
                try:
                    patterns.append(_Pattern(n, role, term, parse_term(term)))
                except ValueError as exc:
                    problems.append(f"topic {topic.id}: {role}: {exc}")
    if problems:
        raise ConfigError(problems)
    return Matcher(topics, _Index(patterns))
