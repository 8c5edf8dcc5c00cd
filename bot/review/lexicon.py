"""The event lexicon, compiled: phrase indexes over `lexicon_actors` and `lexicon_events`, plus
the gazetteer's entities when the bot's topics have any.

Built once (by the composition root or the `stories` command) and handed to the `Grouper`;
pure data afterwards. Gazetteer entities come in as `bot.models.Entity` records through the
topics config, never by reading topics.toml here, and are tried after this lexicon's own
phrases (its people are finer than a gazetteer entry that stands for many officials); their ids
are prefixed "g:" and count as agreement only, never as a conflict.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.models import Entity, Topic
from bot.review import lexicon_actors as actors
from bot.review import lexicon_events as events
from bot.review.phrases import PhraseIndex


def _keyed(table: dict[int, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    return {str(k): v for k, v in table.items()}


@dataclass(frozen=True, slots=True)
class Lexicon:
    """Every phrase table signature-making looks words up in."""

    people: PhraseIndex
    functions: PhraseIndex
    states: PhraseIndex
    places: PhraseIndex
    gazetteer: PhraseIndex
    acts: PhraseIndex
    subjects: PhraseIndex
    units: PhraseIndex
    multipliers: PhraseIndex
    rounds: PhraseIndex
    ordinals: PhraseIndex
    weekdays: PhraseIndex
    relative_days: PhraseIndex
    months: PhraseIndex
    holders: dict[str, str]
    compatible: frozenset[frozenset[str]]

    @classmethod
    def build(cls, entities: Iterable[Entity] = ()) -> Lexicon:
        """The lexicon, with the gazetteer's `entities` (of every topic) added."""
        gazetteer = PhraseIndex()
        seen: set[str] = set()
        for entity in entities:
            for form in entity.forms:
                key = f"{entity.id}\0{form}"
                if key not in seen:
                    seen.add(key)
                    gazetteer.add(f"g:{entity.id}", form)
        return cls(
            people=PhraseIndex.of(actors.PEOPLE),
            functions=PhraseIndex.of(actors.FUNCTIONS),
            states=PhraseIndex.of(actors.STATES),
            places=PhraseIndex.of(actors.PLACES),
            gazetteer=gazetteer,
            acts=PhraseIndex.of(events.ACTS),
            subjects=PhraseIndex.of(events.SUBJECTS),
            units=PhraseIndex.of(events.UNITS),
            multipliers=PhraseIndex.of(events.MULTIPLIERS),
            rounds=PhraseIndex.of({"round": events.ROUND_WORDS}),
            ordinals=PhraseIndex.of(_keyed(events.ORDINALS)),
            weekdays=PhraseIndex.of(_keyed(events.WEEKDAYS)),
            relative_days=PhraseIndex.of(_keyed(events.RELATIVE_DAYS)),
            months=PhraseIndex.of(_keyed(events.MONTHS)),
            holders=dict(actors.HOLDERS),
            compatible=events.COMPATIBLE,
        )

    @classmethod
    def for_topics(cls, topics: Iterable[Topic]) -> Lexicon:
        """The lexicon with the gazetteer entities of every topic."""
        return cls.build(e for topic in topics for e in topic.entities)

    def acts_agree(self, a: frozenset[str], b: frozenset[str]) -> bool:
        """Two act sets tell of one event: they share an act or hold two that go together."""
        if a & b:
            return True
        return any(frozenset((x, y)) in self.compatible for x in a for y in b)
