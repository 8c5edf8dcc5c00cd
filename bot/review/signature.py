"""An event signature per report: who acts, what kind of act, where, which figures, which day.

Pure: text and time in, a `Signature` out. Steps, in order, over the title and the summary
(folded as topics fold them, `bot.topics.folding`):
1. people and institutions of the lexicon, then titles (a function next to a state, within
   three words: "Iran's oil minister", "министр нефти Ирана") resolved to their holder
   ("ir:oil-minister" → "ir-paknejad", or the role id itself when nobody is known to hold it),
   then places and projects, then states, then the gazetteer's entities on the words still
   free;
2. acts (call, meeting, visit, agreement, opening, statement, protest, incident, figure,
   exercise, payment) and subjects (gas, power, rail …), from the title and the whole report;
3. quantities: a number with its unit and multiplier ("$412m" = money 412000000, "1,9 млн
   тонн" = tonnes 1900000); a bare number is left to the words (`bot.review.evidence`);
4. rounds: an ordinal next to "round", "раунд", "raund", "دور";
5. days named: a weekday or "today"/"yesterday" (resolved against the publishing time, the
   most recent such day), or a day and month;
6. the bare numbers of the title and of the whole report;
7. names the lexicon left, as cross-script keys (`bot.review.names`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.review.lexicon import Lexicon
from bot.review.lexicon_events import SPEECH
from bot.review.names import MIN_KEY, name_key
from bot.review.phrases import Hit
from bot.topics.folding import FoldCache, Token, tokenize

_NEAR = 3  # words between a function and its state
_PLACE_CASES = ("daki", "dəki", "dan", "dən")  # Azerbaijani "in …", "from …"
_GENITIVE = ("in", "un")  # Azerbaijani genitive, folded ("Azərbaycanın", "İranın")
_NUMBER = re.compile(
    r"(\$\s?)?(\d{1,3}(?:,\d{3})+(?!\d)|\d+(?:[.,]\d+)?)(?:\s?(bn|m|k)\b)?", re.IGNORECASE
)
_THOUSANDS = re.compile(r"^\d{1,3}(?:,\d{3})+$")
_DIGIT_FOLD = {chr(0x06F0 + d): str(d) for d in range(10)} | {
    chr(0x0660 + d): str(d) for d in range(10)
}
_DIGITS = str.maketrans({**_DIGIT_FOLD, "٫": ".", "٬": ","})
_SUFFIX = {"bn": 1e9, "m": 1e6, "k": 1e3}
_SENTENCE_END = re.compile(r"[.!?؟…:;\"«»“”]\s*$")


@dataclass(frozen=True, slots=True)
class Signature:
    """A report's event signature (ids are the same in every language)."""

    people: frozenset[str]  # persons, institutions and unheld roles of the lexicon
    gazetteer: frozenset[str]  # gazetteer entity ids ("g:…"), agreement only
    states: frozenset[str]
    acts: frozenset[str]  # the title's acts, or the summary's when the title names none
    title_acts: frozenset[str]
    places: frozenset[str]
    title_places: frozenset[str]
    subjects: frozenset[str]
    title_subjects: frozenset[str]
    quantities: frozenset[tuple[str, float]]  # (unit, value)
    rounds: frozenset[int]
    days: frozenset[date]
    numbers: frozenset[str]  # every digit run, as written
    title_numbers: frozenset[str]
    names: frozenset[str]  # keys (`bot.review.names`) of capitalised words the lexicon left
    persian_names: frozenset[str]  # keys of the Persian words it left

    def shared_names(self, other: Signature) -> frozenset[str]:
        """Name keys both carry: capitalised names alike, or a Persian word that is another
        script's name (two Persian words alike are just the same word)."""
        return (
            (self.names & other.names)
            | (self.names & other.persian_names)
            | (self.persian_names & other.names)
        )

    def keys(self) -> list[str]:
        """Index keys that find this report from any language: ids, and act × id pairs."""
        ids = sorted(self.people | self.places | self.gazetteer)
        keys = [f"a:{i}" for i in ids]
        keys += [f"x:{act}:{i}" for act in sorted(self.acts) for i in ids]
        keys += [f"q:{unit}:{value:g}" for unit, value in sorted(self.quantities)]
        keys += [f"m:{key}" for key in sorted(self.names | self.persian_names)]
        return keys


@dataclass(slots=True)
class _Found:
    people: set[str]
    gazetteer: set[str]
    states: set[str]
    places: set[str]
    taken: list[bool]  # words the lexicon explained


def sign(
    title: str,
    summary: str,
    published: datetime,
    lexicon: Lexicon,
    cache: FoldCache,
    tokens: tuple[tuple[Token, ...], tuple[Token, ...]] | None = None,
) -> Signature:
    """The signature of one report (see the module docstring for the steps); `tokens` are the
    title's and the summary's words when the caller has them already."""
    if tokens is None:
        tokens = (tokenize(title, cache), tokenize(summary, cache))
    title_tokens, summary_tokens = tokens
    title_words = [t.norm for t in title_tokens]
    summary_words = [t.norm for t in summary_tokens]
    title_found = _actors(title_words, lexicon)
    summary_found = _actors(summary_words, lexicon)
    latin, persian = _names(title, title_tokens, title_found.taken, heading=True)
    more_latin, more_persian = _names(summary, summary_tokens, summary_found.taken, heading=False)
    in_title = lexicon.events.find_kinds(title_words)
    in_summary = lexicon.events.find_kinds(summary_words)
    title_acts = frozenset({"statement"}) if _quoted(title) else _acts(in_title)
    acts = title_acts or _acts(in_summary)
    title_subjects = _ids(in_title.get("subject", []))
    text = f"{title}\n{summary}"
    return Signature(
        people=frozenset(title_found.people | summary_found.people),
        gazetteer=frozenset(title_found.gazetteer | summary_found.gazetteer),
        states=frozenset(title_found.states | summary_found.states),
        acts=acts,
        title_acts=title_acts,
        places=frozenset(title_found.places | summary_found.places),
        title_places=frozenset(title_found.places),
        subjects=title_subjects | _ids(in_summary.get("subject", [])),
        title_subjects=title_subjects,
        quantities=_quantities(text, lexicon, cache) if _has_digit(text) else frozenset(),
        rounds=_rounds(in_title) | _rounds(in_summary),
        days=_days(title_words, in_title, published) | _days(summary_words, in_summary, published),
        numbers=_numbers(title_words) | _numbers(summary_words),
        title_numbers=_numbers(title_words),
        names=latin | more_latin,
        persian_names=persian | more_persian,
    )


def _has_digit(text: str) -> bool:
    return any(c.isdigit() for c in text)


def _names(
    text: str, tokens: tuple[Token, ...], taken: list[bool], *, heading: bool
) -> tuple[frozenset[str], frozenset[str]]:
    """Keys of the names the lexicon left: capitalised words inside a sentence (not in a Title
    Case headline), and every Persian word (Persian has no capitals; only another script's
    names are compared with them)."""
    capitals = [text[t.start].isupper() for t in tokens]
    if heading and len(tokens) >= 3 and sum(capitals) >= 0.6 * len(tokens):
        capitals = [False] * len(tokens)  # a Title Case headline: capitals say nothing
    latin: set[str] = set()
    persian: set[str] = set()
    for n, token in enumerate(tokens):
        if taken[n] or token.norm.isdigit():
            continue
        key = name_key(token.norm)
        if len(key) < MIN_KEY:
            continue
        if "\u0600" <= token.norm[0] <= "\u06ff":
            persian.add(key)
        elif capitals[n] and (n > 0 or heading) and not _SENTENCE_END.search(token.gap):
            latin.add(key)
    return frozenset(latin), frozenset(persian)


def _numbers(words: list[str]) -> frozenset[str]:
    return frozenset(w.lstrip("0") or "0" for w in words if w.isdigit())


def _ids(hits: list[Hit]) -> frozenset[str]:
    return frozenset(h.id for h in hits)


def _acts(found: dict[str, list[Hit]]) -> frozenset[str]:
    acts = _ids(found.get("act", []))
    # "Discussed by phone" is a call: its talking words are the call's, and a visit it names
    # is one still to come.
    if "call" in acts:
        return acts - {"meeting", "visit"}
    return acts & SPEECH or acts


def _quoted(title: str) -> bool:
    """A headline "Araghchi: Iran backs …" quotes someone: the act is a statement."""
    head, colon, _rest = title.partition(":")
    return bool(colon) and 0 < len(head.split()) <= 3


def _actors(words: list[str], lexicon: Lexicon) -> _Found:
    taken = [False] * len(words)
    hits = lexicon.actors.find(words)
    by_kind: dict[str, list[Hit]] = {}
    for h in hits:
        kind, _, name = h.id.partition(":")
        by_kind.setdefault(kind, []).append(Hit(name, h.start, h.end))
        taken[h.start : h.end] = [True] * (h.end - h.start)
    gazetteer = {h.id for h in lexicon.gazetteer.find(words, taken)}
    people_hits = by_kind.get("person", [])
    people = {h.id for h in people_hits}
    states = by_kind.get("state", [])
    for function in by_kind.get("function", []):
        if any(h.start - function.end <= 1 and function.start - h.end <= 1 for h in people_hits):
            continue  # "Iranian Foreign Minister Abbas Araghchi": the title is of the named one
        if ":" in function.id:  # a title only one state has ("supreme leader")
            role: str | None = function.id
        else:
            state = _nearest(function, _owners(words, states), words)
            role = None if state is None else f"{state}:{function.id}"
        if role is not None:
            people.add(lexicon.holders.get(role, role))
    places = {h.id for h in by_kind.get("place", [])}
    return _Found(people, gazetteer, {h.id for h in states}, places, taken)


def _owners(words: list[str], states: list[Hit]) -> list[Hit]:
    """States that can own a title: not "in/from Azerbaijan" ("Azərbaycandakı səfir" is the
    ambassador *in* Azerbaijan, of another state)."""
    return [s for s in states if not words[s.end - 1].endswith(_PLACE_CASES)]


def _nearest(function: Hit, states: list[Hit], words: list[str]) -> str | None:
    """The state nearest a function; a genitive one first ("Azərbaycanın … səfiri")."""
    best: tuple[bool, int, int, str] | None = None
    for s in states:
        gap = function.start - s.end if s.end <= function.start else s.start - function.end
        if gap < _NEAR:
            genitive = words[s.end - 1].endswith(_GENITIVE)
            rank = (not genitive, gap, 0 if s.end <= function.start else 1, s.id)
            if best is None or rank < best:
                best = rank
    return None if best is None else best[3]


def _quantities(text: str, lexicon: Lexicon, cache: FoldCache) -> frozenset[tuple[str, float]]:
    text = text.translate(_DIGITS)
    out: set[tuple[str, float]] = set()
    for m in _NUMBER.finditer(text):
        if m.start() > 0 and (text[m.start() - 1].isalnum() or text[m.start() - 1] in ".,"):
            continue  # inside a word or another number
        digits = m.group(2)
        # "95,000" groups thousands; "1,9" (Russian, Azerbaijani) is a decimal comma.
        value = float(
            digits.replace(",", "") if _THOUSANDS.match(digits) else digits.replace(",", ".")
        )
        after = [t.norm for t in tokenize(text[m.end() : m.end() + 40], cache)][:4]
        unit = "money" if m.group(1) else None
        if m.group(3):
            value *= _SUFFIX[m.group(3).lower()]
        else:
            mult = lexicon.multipliers.find(after[:1])
            if mult:
                value *= float(mult[0].id)
                after = after[1:]
        if unit is None:
            found = lexicon.units.find(after[:3])
            if found and found[0].start <= 1:  # "12 km", "410,000 Iranian tourists"
                unit = found[0].id
        if unit is not None:
            out.add((unit, round(value, 6)))
    return frozenset(out)


def _rounds(found: dict[str, list[Hit]]) -> frozenset[int]:
    out = set()
    ordinals = found.get("ordinal", [])
    for r in found.get("round", []):
        for o in ordinals:
            if abs(o.start - r.start) <= 2:
                out.add(int(o.id))
    return frozenset(out)


def _days(words: list[str], found: dict[str, list[Hit]], published: datetime) -> frozenset[date]:
    today = published.date()
    out = {today + timedelta(days=int(h.id)) for h in found.get("relday", [])}
    for h in found.get("weekday", []):
        back = (today.weekday() - int(h.id)) % 7
        out.add(today - timedelta(days=back))
    for h in found.get("month", []):
        for n in (h.start - 1, h.end):
            if 0 <= n < len(words) and words[n].isdigit() and 1 <= int(words[n]) <= 31:
                try:
                    out.add(date(today.year, int(h.id), int(words[n])))
                except ValueError:
                    continue
    return frozenset(out)
