"""What the matcher saw for one topic on one item: the records `/testmatch`, `config test` and
`python -m bot match` render."""

from __future__ import annotations

from dataclasses import dataclass

from bot.models import TermHit, TopicMatch


@dataclass(frozen=True, slots=True)
class Enumeration:
    """A run of list names joined by commas or conjunctions, as written, with its names."""

    field: str
    text: str
    names: tuple[str, ...]
    joint: tuple[str, ...] = ()  # joint terms in its sentence, as written: any makes it a deal


@dataclass(frozen=True, slots=True)
class TopicExplanation:
    """Everything the rules saw for one topic on one item, for /testmatch and for debugging.

    Entity hits are TermHits like term hits; their `term` reads "id (kind)" ("irgc (institution)").
    """

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
    # Entity hits that count only with another state's own signal, which the item lacked.
    unsupported: tuple[TermHit, ...] = ()
    # Issue 18: kind veto terms present, the political terms that lift them, entity hits that
    # belong to another party named beside them, and one line per salience finding ("iran: in
    # passing (summary 'Iran' is background ('amid'))").
    kind_vetoes: tuple[TermHit, ...] = ()
    political: tuple[TermHit, ...] = ()
    owned: tuple[TermHit, ...] = ()
    roles: tuple[str, ...] = ()

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
        out += [
            f"  needs a second signal {h.group}: {h.term} in {h.field}: {h.text!r}"
            for h in self.unsupported
        ]
        out += [
            f"  kind veto: {h.group[5:]}: {h.term} in {h.field}: {h.text!r}"
            for h in self.kind_vetoes
        ]
        out += [f"  political: {h.term} in {h.field}: {h.text!r}" for h in self.political]
        out += [
            f"  another party's {h.group}: {h.term} in {h.field}: {h.text!r}" for h in self.owned
        ]
        out += [f"  role: {line}" for line in self.roles]
        if self.missing:
            out.append(f"  missing: {', '.join(self.missing)}")
        return tuple(out)
