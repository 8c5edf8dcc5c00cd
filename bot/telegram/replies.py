"""Operator commands' arguments and answers, as plain functions of values (pure: no I/O, no clock).

Arguments are split like a shell line, but only double quotes group words (typographic “ ” „ « »
count as double quotes, since phone keyboards type them), so `"South Caucasus"` is one term while
an apostrophe (`Xi'an`, `Shi'ite`) stays a letter. Answers are Telegram HTML with every dynamic
string escaped, cut to fit one message (4096 UTF-16 units of visible text). The command table
(`ADMIN_COMMANDS`, re-exported by `bot.telegram.admin`) lives here too, as plain data.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo
from typing import Any, Protocol

from bot.models import Source, SourceState, Topic
from bot.operator.difference import change
from bot.text.durations import format_duration
from bot.text.formatting import clean, format_time, trim
from bot.text.markup import TELEGRAM_TEXT_LIMIT, escape_text, utf16_len, visible_text
from bot.topics.matcher import TopicExplanation

_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"'})
_COMMAND = re.compile(r"^\s*/\S*\s?")

# (command, usage) in the order /help lists them; also fit for setMyCommands in an admin scope.
ADMIN_COMMANDS: tuple[tuple[str, str], ...] = (
    ("sources", "/sources — every source's health"),
    ("addsource", "/addsource ID URL [NAME…] (/addsource! … adds a feed already polled)"),
    ("removesource", "/removesource ID"),
    ("pause", "/pause ID"),
    ("resume", "/resume ID"),
    ("interval", "/interval ID DURATION (e.g. 15m)"),
    ("article", "/article ID never|short|always — when to fetch article pages"),
    ("terms", "/terms TOPIC"),
    ("addterm", '/addterm TOPIC GROUP TERM (quote a phrase: "South Caucasus")'),
    ("removeterm", "/removeterm TOPIC GROUP TERM"),
    ("addmask", "/addmask TOPIC PHRASE"),
    ("removemask", "/removemask TOPIC PHRASE"),
    ("addveto", "/addveto TOPIC TERM"),
    ("removeveto", "/removeveto TOPIC TERM"),
    ("testmatch", "/testmatch TEXT (first line: title, the rest: summary)"),
    ("addchannel", "/addchannel @name_or_id [TOPIC…]"),
    ("removechannel", "/removechannel @name_or_id [TOPIC…]"),
    ("audit", "/audit [N] — the last N changes"),
    ("undo", "/undo — revert the last change"),
    ("reload", "/reload — re-read the config files"),
    ("rematch", "/rematch TOPIC [HOURS] [announce]"),
    ("quality", "/quality [DURATION] — the desk's verdicts on what was pushed (default 7d)"),
    ("feedback", "/feedback [CHAT_ID] on|off — relevance buttons in a chat"),
)
ADMIN_USAGE: Mapping[str, str] = dict(ADMIN_COMMANDS)  # command → its usage line
AUDIT_DEFAULT, AUDIT_MAX = 10, 50


class ArgumentError(ValueError):
    """The command's arguments cannot be read; the message says how to write them."""


def command_rest(text: str) -> str:
    """The text after the `/command` (or `/command@bot`) word, with its line breaks kept."""
    return _COMMAND.sub("", text, count=1).strip()


def split_args(text: str) -> list[str]:
    """Words of `text`; double-quoted runs are one word. ArgumentError on an unbalanced quote."""
    lexer = shlex.shlex(text.translate(_QUOTES), posix=True)
    lexer.whitespace_split = True
    lexer.quotes = '"'
    lexer.escape = ""  # a backslash is just a character in a news term
    lexer.commenters = ""
    try:
        return [word for word in lexer if word.strip()]
    except ValueError:
        raise ArgumentError(
            'a quote is not closed: put a multi-word term in double quotes, e.g. "South Caucasus"'
        ) from None


def audit_count(args: Sequence[str]) -> int:
    """The N of `/audit [N]` (AUDIT_DEFAULT if absent); ArgumentError unless 1…AUDIT_MAX."""
    if not args:
        return AUDIT_DEFAULT
    if len(args) != 1 or not args[0].isdigit() or not 1 <= int(args[0]) <= AUDIT_MAX:
        raise ArgumentError(f"N is a number from 1 to {AUDIT_MAX}")
    return int(args[0])


def rematch_args(
    args: Sequence[str], *, default_hours: float, max_hours: float
) -> tuple[str, float, bool]:
    """`/rematch TOPIC [HOURS] [announce]` → (topic id, hours, announce); ArgumentError if bad."""
    announce = any(a.lower() == "announce" for a in args)
    rest = [a for a in args if a.lower() != "announce"]
    if not 1 <= len(rest) <= 2:
        raise ArgumentError("a topic is needed, then optionally HOURS and announce")
    hours = default_hours
    if len(rest) == 2:
        try:
            hours = float(rest[1])
        except ValueError:
            raise ArgumentError("HOURS is a number, e.g. 24") from None
        if not 0 < hours <= max_hours:
            raise ArgumentError(f"HOURS is more than 0 and at most {max_hours:g}")
    return rest[0], hours, announce


def b(text: str) -> str:
    """Bold, escaped."""
    return f"<b>{escape_text(text)}</b>"


def code(text: str) -> str:
    """Monospace, escaped."""
    return f"<code>{escape_text(text)}</code>"


def fits(text: str) -> bool:
    """True when Telegram accepts `text` (HTML) as one message."""
    return utf16_len(visible_text(text)) <= TELEGRAM_TEXT_LIMIT


def fit_blocks(head: str, blocks: Sequence[str], tail: Sequence[str] = ()) -> str:
    """Join as many blocks (each one or more lines) as fit in one message, noting the rest."""
    shown: list[str] = []
    for i, block in enumerate(blocks):
        more = f"… and {len(blocks) - i} more"
        if not fits("\n".join([head, *shown, block, more, *tail])):
            return "\n".join([head, *shown, more, *tail])
        shown.append(block)
    return "\n".join([head, *shown, *tail])


def short(value: Any, limit: int = 160) -> str:
    """A compact one-line rendering of an audit value (escaped by the caller)."""
    if value is None:
        return "—"
    if isinstance(value, str):
        text = value
    else:
        text = json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)
    return trim(clean(text), limit)


# ----------------------------------------------------------------- sources


def health_text(
    sources: Sequence[Source],
    states: Mapping[str, SourceState],
    next_polls: Mapping[str, datetime | None],
    *,
    tz: tzinfo,
) -> str:
    """The operators' /sources: every source with last success, failures, last error, next poll."""
    if not sources:
        return "No sources are configured. Add one with /addsource ID URL [NAME]."
    ordered = sorted(sources, key=lambda s: (not s.enabled, s.id))
    failing = sum(1 for s in sources if (st := states.get(s.id)) and st.consecutive_failures)
    paused = sum(1 for s in sources if not s.enabled)
    blocks = []
    for source in ordered:
        state = states.get(source.id) or SourceState(source.id)
        name = trim(clean(source.name), 64)
        every = format_duration(source.interval)
        label = f"{b(name)} {code(source.id)}" if name != source.id else code(source.id)
        if not source.enabled:
            blocks.append(f"⏸ {label} · paused (every {every})")
            continue
        mark = "⚠️" if state.consecutive_failures else ("⏳" if state.last_attempt is None else "✅")
        lines = [f"{mark} {label} · every {every}"]
        facts = [
            "last success "
            + (format_time(state.last_success, tz) if state.last_success else "never"),
        ]
        when = next_polls.get(source.id, state.next_poll)
        facts.append("next poll " + (format_time(when, tz) if when else "not scheduled"))
        lines.append("    " + " · ".join(facts))
        if state.consecutive_failures:
            lines.append(f"    {state.consecutive_failures} failure(s) in a row")
        if state.last_error:
            lines.append(f"    last error: {escape_text(trim(clean(state.last_error), 200))}")
        blocks.append("\n".join(lines))
    head = f"<b>Sources</b>: {len(sources)}, {paused} paused, {failing} failing"
    return fit_blocks(head, blocks)


# ----------------------------------------------------------------- topics and terms


def _terms(terms: Sequence[str]) -> str:
    return ", ".join(code(t) for t in terms) or "—"


def terms_text(topic: Topic) -> str:
    """The /terms answer: a topic's groups (required ones marked), masks, vetoes and list words."""
    head = f"{b(topic.name)} {code(topic.id)}"
    blocks = [f"Required: {', '.join(escape_text(r) for r in topic.require) or '—'}"]
    for group in topic.groups:
        mark = " (required)" if group.name in topic.require else ""
        blocks.append(f"{b(group.name)}{mark}: {_terms(group.terms)}")
    blocks.append(f"Masks: {_terms(topic.masks)}")
    blocks.append(f"Vetoes: {_terms(topic.vetoes)}")
    if topic.list_terms:
        blocks.append(f"List names (min {topic.list_min}): {_terms(topic.list_terms)}")
    if topic.joint_terms:
        blocks.append(f"Joint-action words: {_terms(topic.joint_terms)}")
    return fit_blocks(head, blocks)


def topics_list(topics: Sequence[Topic]) -> str:
    """One line per topic: id and name."""
    return "\n".join(f"{code(t.id)} — {escape_text(t.name)}" for t in topics) or "(no topics)"


def testmatch_text(text: str, explanations: Sequence[TopicExplanation]) -> str:
    """The /testmatch answer: each topic's verdict and the evidence, matched terms by group.

    Gazetteer entities appear among the terms of their group as "id (kind)"."""
    title = trim(clean(text.split("\n", 1)[0]), 120)
    head = f"<b>Test match</b> of “{escape_text(title)}”"
    blocks = []
    for e in sorted(explanations, key=lambda e: not e.matched):
        mark = "✅ MATCH" if e.matched else "❌ no match"
        lines = [f"{mark}: {b(e.topic_name)} {code(e.topic_id)} — {escape_text(e.reason)}"]
        for group, terms in e.hits_by_group().items():
            lines.append(f"    {escape_text(group)}: {_terms(terms)}")
        if e.missing:
            lines.append(f"    missing: {escape_text(', '.join(e.missing))}")
        if e.masked:
            lines.append(f"    masked: {_terms(list(dict.fromkeys(h.text for h in e.masked)))}")
        if e.vetoes:
            lines.append(f"    veto: {_terms(list(dict.fromkeys(h.term for h in e.vetoes)))}")
        if e.discounted:
            listed = list(dict.fromkeys(h.term for h in e.discounted))
            lines.append(f"    only in an enumeration: {_terms(listed)}")
        if e.unsupported:
            # Entity hits (border crossings, shared projects) that need the other state's own hit.
            weak = list(dict.fromkeys(h.term for h in e.unsupported))
            lines.append(f"    needs a second signal: {_terms(weak)}")
        # Issue 18: the kind of item, another party's entities, and how each state appears.
        if e.kind_vetoes:
            kinds = list(dict.fromkeys(f"{h.group[5:]}: {h.text}" for h in e.kind_vetoes))
            lines.append(f"    kind: {_terms(kinds)}")
        if e.owned:
            lines.append(f"    another party's: {_terms([h.text for h in e.owned])}")
        lines += [f"    {escape_text(line)}" for line in e.roles]
        blocks.append("\n".join(lines))
    if not blocks:
        return "No topics are configured."
    return fit_blocks(head, blocks)


# ----------------------------------------------------------------- audit


class AuditLike(Protocol):
    """The fields of `bot.operator.live.AuditEntry` shown by /audit."""

    @property
    def id(self) -> int: ...
    @property
    def actor(self) -> str: ...
    @property
    def at(self) -> datetime: ...
    @property
    def action(self) -> str: ...
    @property
    def target(self) -> str: ...
    @property
    def before(self) -> Any: ...
    @property
    def after(self) -> Any: ...
    @property
    def undone(self) -> bool: ...
    @property
    def summary(self) -> str: ...


def audit_text(entries: Sequence[AuditLike], *, tz: tzinfo) -> str:
    """The /audit answer: newest first, who, when, what, and what differs (as `config audit`
    shows it: `+'term' -'term'` for a term list, `field: old → new` for a source)."""
    if not entries:
        return "No changes have been made yet."
    blocks = []
    for e in entries:
        undone = " <i>(undone)</i>" if e.undone else ""
        blocks.append(
            f"#{e.id} · {format_time(e.at, tz)} · {escape_text(e.actor)}{undone}\n"
            f"    {escape_text(short(e.summary or f'{e.action} {e.target}', 200))}\n"
            f"    {escape_text(short(change(e.before, e.after), 600))}"
        )
    return fit_blocks(f"<b>Last {len(entries)} change(s)</b>", blocks)


def problems_text(head: str, problems: Sequence[str]) -> str:
    """A refusal listing a ConfigError's problems, escaped and cut to fit."""
    lines = [f"• {escape_text(trim(clean(p), 400))}" for p in problems]
    return fit_blocks(head, lines)


def duplicate_source_text(sources: Sequence[Source], source_id: str, url: str) -> str | None:
    """The /addsource refusal when the id or the URL is already a source's, else None."""
    for s in sources:
        if s.id == source_id:
            return (
                f"Not added: there is already a source {code(source_id)} ({escape_text(s.name)})."
            )
        if s.url == url:
            return f"Not added: this URL is already source {code(s.id)} ({escape_text(s.name)})."
    return None


def reloaded_text(sources: Sequence[Source], topics: Sequence[Topic]) -> str:
    """The /reload answer: how many sources (and of them polled) and topics now run."""
    polled = sum(1 for s in sources if s.enabled)
    return f"Reloaded: {len(sources)} source(s) ({polled} polled), {len(topics)} topic(s)."


def added_text(
    source_id: str,
    feed_title: str,
    item_count: int,
    newest_title: str | None,
    newest_published: datetime | None,
    summary: str,
    *,
    tz: tzinfo,
) -> str:
    """The /addsource answer: what the probe found in the feed, and what was changed."""
    newest = "no items yet"
    if newest_title is not None:
        when = f" ({format_time(newest_published, tz)})" if newest_published is not None else ""
        newest = f"newest: “{escape_text(trim(clean(newest_title), 200))}”{when}"
    return (
        f"Added {code(source_id)}: feed “{escape_text(trim(clean(feed_title), 200))}”, "
        f"{item_count} item(s); {newest}.\n"
        f"{escape_text(summary)}. It is polled now; /undo reverts it."
    )


def rematch_text(
    topic_id: str,
    hours: float,
    scanned: int,
    already: int,
    titles: Sequence[str],
    *,
    announced: bool,
    shown: int = 10,
) -> str:
    """The /rematch answer: how many items were looked at and which are newly flagged."""
    lines = [
        f"Rematched {code(topic_id)} over {scanned} item(s) of the last {hours:g} h "
        f"({already} already flagged): {len(titles)} newly flagged."
    ]
    lines += [f"• {escape_text(trim(clean(t), 120))}" for t in titles[:shown]]
    if len(titles) > shown:
        lines.append(f"… and {len(titles) - shown} more")
    if announced:
        lines.append("They are being sent to the chats that follow the topic.")
    elif titles:
        lines.append("Not announced (add <code>announce</code> to send them); see /latest.")
    return "\n".join(lines)
