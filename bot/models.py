"""Frozen records passed between the parts of the bot. No I/O, no behaviour beyond views."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

# When a flagged item's article page is fetched: never, when its feed text is short, or always.
ArticleMode = Literal["never", "short", "always"]
ARTICLE_MODES: tuple[ArticleMode, ...] = ("never", "short", "always")
# What a source's URL serves: a feed (RSS, Atom, RDF, JSON Feed), a public Telegram channel's web
# preview, an HTML listing page read with CSS selectors, or a news sitemap.
SourceKind = Literal["feed", "telegram", "html", "sitemap"]
SOURCE_KINDS: tuple[SourceKind, ...] = ("feed", "telegram", "html", "sitemap")


@dataclass(frozen=True, slots=True)
class Selectors:
    """CSS selectors that read items off an HTML listing page (`type = "html"` sources).

    `item` is matched in the page; the others inside each item's element."""

    item: str
    title: str
    link: str
    date: str | None = None
    summary: str | None = None


@dataclass(frozen=True, slots=True)
class Source:
    """An outlet's feed as configured."""

    id: str
    name: str
    url: str
    interval: float  # seconds between polls, before jitter and backoff
    language: str | None = None
    enabled: bool = True
    user_agent: str | None = None  # overrides the bot's own, for outlets that refuse unknown agents
    fetch_article: ArticleMode = "short"
    kind: SourceKind = "feed"  # `type` in sources.toml
    selectors: Selectors | None = None  # only for kind "html"


@dataclass(frozen=True, slots=True)
class Validators:
    """What we remember of the last good response, to ask for and recognise an unchanged feed."""

    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None  # sha256 of the last body that was parsed


@dataclass(frozen=True, slots=True)
class Fetched:
    """A successful HTTP exchange: 200 with a body, or 304 without one."""

    status: int
    url: str  # final URL, after redirects
    body: bytes | None
    content_type: str | None
    etag: str | None
    last_modified: str | None
    elapsed: float  # seconds

    @property
    def not_modified(self) -> bool:
        """True when the server answered 304."""
        return self.status == 304


@dataclass(frozen=True, slots=True)
class Item:
    """A feed entry, normalized: plain text, canonical URL, UTC time."""

    source_id: str
    key: str  # stable identity within the source; see normalize.item_key
    url: str
    title: str
    summary: str
    published: datetime  # timezone-aware, UTC
    language: str | None = None
    guid: str | None = None
    # The page `fetch_article` reads, when it is not `url`: a Telegram post's first outbound
    # link; "" when there is none (a post that links nowhere has no article page). Not stored.
    article_url: str | None = None


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """What a feed body yielded."""

    title: str
    items: tuple[Item, ...]
    warning: str | None = None  # why the feed was ill-formed, when it still yielded items
    hub: str | None = None  # WebSub hub the feed advertises (<link rel="hub">)
    self_url: str | None = None  # the feed's own URL as it states it (<link rel="self">)


@dataclass(frozen=True, slots=True)
class TermGroup:
    """A named list of terms; `Iran*` is a prefix stem, anything else matches whole words."""

    name: str
    terms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Entity:
    """A gazetteer entry: an institution, person, place or project that stands for a state.

    Its `forms` are terms (any language, `*` stems allowed) that count for each group in
    `groups`; with `alone` False a hit counts only when another required group has a hit of its
    own (a term or an entity that counts alone), e.g. a border crossing or a shared project.
    """

    id: str
    kind: str  # institution, person, place, project or epithet
    groups: tuple[str, ...]
    forms: tuple[str, ...]
    alone: bool = True


@dataclass(frozen=True, slots=True)
class KindVeto:
    """A kind of item that is not relations even when both states are named (weather, sports,
    brands and addresses, origin): its terms, from every language, veto the item unless a
    political signal stands in it too."""

    kind: str
    terms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Salience:
    """Words that tell how a state appears in an item (issue 18), each list from every language.

    - `political`: a protest, a ban, a summons, aid, a visa, trade…: any of them lifts the kind
      vetoes;
    - `officials`: a minister, an embassy, a president, a counterpart…: they lift the kind
      vetoes too, and one beside a state's name makes the mention an official's ("Azerbaijan's
      foreign minister"), which acts wherever it stands;
    - `third_parties`: names of other parties beyond the list names (leaders, blocs);
    - `home_places`: list names that are a required state's own places, never a third party;
    - `background`: words opening a subordinate or background clause (which, amid, after…);
      a state named after one, in its sentence, is in passing;
    - `background_after`: the same, written after the name (Azerbaijani and Persian
      postpositions: "fonunda", "sonra"), within a few words;
    - `aside`: "also", "too": a plain name after one is in passing, an official's is not;
    - `talk`: "discuss", "обсудили", "müzakirə": in a sentence that opens with another party,
      the states' plain names are what that party talks about.
    """

    political: tuple[str, ...] = ()
    officials: tuple[str, ...] = ()
    third_parties: tuple[str, ...] = ()
    home_places: tuple[str, ...] = ()
    background: tuple[str, ...] = ()
    background_after: tuple[str, ...] = ()
    aside: tuple[str, ...] = ()
    talk: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Topic:
    """A topic: every group named in `require` must match, after masks are removed, with no veto."""

    id: str
    name: str
    groups: tuple[TermGroup, ...]
    require: tuple[str, ...]
    masks: tuple[str, ...] = ()
    vetoes: tuple[str, ...] = ()
    # Names that make up enumerations ("Iran, Turkey and Georgia"); a required term that only
    # stands inside such a list of at least `list_min` names is incidental, not a match.
    list_terms: tuple[str, ...] = ()
    list_min: int = 3
    default: bool = True  # new subscribers get it
    # Words of joint action ("trilateral", "signed", "talks"): an enumeration whose sentence holds
    # one names the parties to a deal, not a roundup, so its names count like any other mention.
    joint_terms: tuple[str, ...] = ()
    entities: tuple[Entity, ...] = ()  # the topic's gazetteer
    kind_vetoes: tuple[KindVeto, ...] = ()
    salience: Salience = Salience()


@dataclass(frozen=True, slots=True)
class TermHit:
    """One term that matched: which group, which configured term, in which field, as written."""

    group: str
    term: str
    field: str  # "title" or "summary"
    text: str


@dataclass(frozen=True, slots=True)
class TopicMatch:
    """A topic that matched an item, with the hits that explain why."""

    topic_id: str
    hits: tuple[TermHit, ...]

    def terms_by_group(self) -> dict[str, list[str]]:
        """Group name → distinct configured terms that matched, in first-seen order."""
        out: dict[str, list[str]] = {}
        for hit in self.hits:
            terms = out.setdefault(hit.group, [])
            if hit.term not in terms:
                terms.append(hit.term)
        return out


@dataclass(frozen=True, slots=True)
class MatchedItem:
    """An item with the topics it matched (possibly none)."""

    item: Item
    matches: tuple[TopicMatch, ...] = ()
    review_summary: str | None = None  # the extractive summary, computed for flagged items


@dataclass(frozen=True, slots=True)
class StoredItem:
    """An item as read back from the store, for announcing and for `latest`."""

    id: int
    item: Item
    source_name: str
    first_seen: datetime
    matches: tuple[TopicMatch, ...] = ()
    review_summary: str | None = None  # shown instead of the feed's teaser when set

    @property
    def topics(self) -> tuple[str, ...]:
        """Ids of the topics it matched."""
        return tuple(m.topic_id for m in self.matches)


@dataclass(frozen=True, slots=True)
class SourceState:
    """What the store remembers of a source between polls."""

    source_id: str
    validators: Validators = field(default_factory=Validators)
    last_attempt: datetime | None = None
    last_success: datetime | None = None
    consecutive_failures: int = 0
    last_error: str | None = None
    next_poll: datetime | None = None
    items_seen: int = 0

    @property
    def first_sight(self) -> bool:
        """No successful fetch yet: its current items are a backlog, not news."""
        return self.last_success is None


@dataclass(frozen=True, slots=True)
class Story:
    """Reports of one event: its first report's id, and the flagged items, earliest first."""

    id: int
    reports: tuple[StoredItem, ...]

    @property
    def first(self) -> StoredItem:
        """The first report: its title and summary stand for the story."""
        return self.reports[0]

    @property
    def latest(self) -> datetime:
        """When the newest report was published."""
        return max(r.item.published for r in self.reports)

    @property
    def outlets(self) -> tuple[StoredItem, ...]:
        """One report per outlet (its first), in the order they reported."""
        seen: dict[str, StoredItem] = {}
        for report in self.reports:
            seen.setdefault(report.item.source_id, report)
        return tuple(seen.values())
