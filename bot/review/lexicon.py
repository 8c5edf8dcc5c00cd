"""The event lexicon, compiled: phrase indexes over `lexicon_actors`, `lexicon_people` and
`lexicon_events`, plus
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
from bot.review import lexicon_people as people
from bot.review.phrases import PhraseIndex


def _keyed(table: dict[int, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    return {str(k): v for k, v in table.items()}


def _kinds(**tables: dict[str, tuple[str, ...]]) -> PhraseIndex:
    """One index over several tables, ids written "kind:id", in the order given."""
    index = PhraseIndex()
    for kind, table in tables.items():
        for ident, forms in table.items():
            for form in forms:
                index.add(f"{kind}:{ident}", form)
    return index


@dataclass(frozen=True, slots=True)
class Lexicon:
    """Every phrase table signature-making looks words up in.

    `actors` holds titles, people, places and states (ids "function:…", "person:…",
    "place:…", "state:…"; of two phrases of one length at one place, the first kind wins);
    `events` holds acts, subjects, round words, ordinals, weekdays, relative days and months,
    each kind found on its own (`PhraseIndex.find_kinds`).
    """

    actors: PhraseIndex
    gazetteer: PhraseIndex
    events: PhraseIndex
    units: PhraseIndex
    multipliers: PhraseIndex
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
            actors=_kinds(
                function=actors.FUNCTIONS,
                person=people.PEOPLE,
                place=people.PLACES,
                state=actors.STATES,
            ),
            gazetteer=gazetteer,
            events=_kinds(
                act=events.ACTS,
                subject=events.SUBJECTS,
                round={"round": events.ROUND_WORDS},
                ordinal=_keyed(events.ORDINALS),
                weekday=_keyed(events.WEEKDAYS),
                relday=_keyed(events.RELATIVE_DAYS),
                month=_keyed(events.MONTHS),
            ),
            units=PhraseIndex.of(events.UNITS),
            multipliers=PhraseIndex.of(events.MULTIPLIERS),
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
