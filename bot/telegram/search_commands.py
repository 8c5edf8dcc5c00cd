"""/search, /more, /alert, /alerts and /unalert: the archive search and personal alerts in Telegram.

One method each on `SearchCommands` (an `Ask` in, Telegram HTML out), wrapped as handlers by
`make_search_handlers` the way `bot.telegram.commands` wraps the subscribers' commands. A query
that does not parse, or an alert that is refused, gets one line saying why. `/more` continues the
chat's last search from where its page ended (kept in memory: the process that polls Telegram
answers every command).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, tzinfo
from typing import Any

from telegram.ext import BaseHandler, CommandHandler, filters

from bot.review.alerts import MAX_SHARE, MIN_SAMPLE, alert_problem
from bot.review.query import QueryError, parse_query
from bot.review.searchresults import group_by_story
from bot.storage.alerts import AlertStore
from bot.storage.search import SearchStore
from bot.telegram.commands import Ask, _replying
from bot.telegram.replying import Replier
from bot.telegram.search_texts import (
    ALERT_USAGE,
    NO_MORE,
    PAGE,
    SEARCH_USAGE,
    UNALERT_USAGE,
    alert_saved,
    alerts_text,
    problem_text,
    results_text,
)

SEARCH_COMMANDS: tuple[tuple[str, str], ...] = (
    ("search", "Find stored items: /search words"),
    ("more", "The next search results"),
    ("alert", "Post new items matching: /alert words"),
    ("alerts", "This chat's alerts"),
    ("unalert", "Remove an alert: /unalert N"),
)


class SearchCommands:
    """The search and alert commands (see the module docstring)."""

    def __init__(
        self,
        *,
        search: SearchStore,
        alerts: AlertStore,
        tz: tzinfo,
        clock: Callable[[], datetime],
        max_alerts: int,
    ) -> None:
        self._search, self._alerts, self._tz, self._clock = search, alerts, tz, clock
        self._max_alerts = max_alerts
        self._last: dict[int, tuple[str, int]] = {}  # chat → (query, offset of its next page)

    def commands(self) -> Mapping[str, Callable[[Ask], Any]]:
        """Command name → handler."""
        return {
            "search": self.search,
            "more": self.more,
            "alert": self.alert,
            "alerts": self.list_alerts,
            "unalert": self.unalert,
        }

    async def search(self, ask: Ask) -> str:
        """The first page of results."""
        text = " ".join(ask.args)
        if not text.strip():
            return SEARCH_USAGE
        return await self._page(ask.chat_id, text, 0)

    async def more(self, ask: Ask) -> str:
        """The next page of the chat's last search."""
        last = self._last.get(ask.chat_id)
        if last is None:
            return NO_MORE
        return await self._page(ask.chat_id, *last)

    async def _page(self, chat_id: int, text: str, offset: int) -> str:
        try:
            query = parse_query(text, now=self._clock())
        except QueryError as exc:
            return problem_text(str(exc))
        hits = await self._search.search(query, limit=PAGE + 1, offset=offset)
        more = len(hits) > PAGE
        hits = hits[:PAGE]
        if more:
            self._last[chat_id] = (text, offset + PAGE)
        else:
            self._last.pop(chat_id, None)
        groups = group_by_story([(h.stored, h.story_id) for h in hits])
        return results_text(groups, query=query.text, offset=offset, more=more, tz=self._tz)

    async def alert(self, ask: Ask) -> str:
        """Save a search; refused when malformed, too broad, or over the chat's limit."""
        text = " ".join(ask.args)
        if not text.strip():
            return ALERT_USAGE
        try:
            query = parse_query(text, now=self._clock())
        except QueryError as exc:
            return problem_text(str(exc))
        problem = alert_problem(query)
        if problem is None:
            found, of = await self._search.share(query)
            if of >= MIN_SAMPLE and found > MAX_SHARE * of:
                problem = (
                    f"that would match almost everything ({found} of the last {of} items): "
                    "add a more specific word or a phrase"
                )
        if problem is not None:
            return problem_text(problem)
        saved = await self._alerts.add(
            ask.chat_id,
            query.text,
            kind=ask.kind,
            title=ask.title,
            now=self._clock(),
            limit=self._max_alerts,
        )
        if saved is None:
            return problem_text(
                f"this chat already has {self._max_alerts} alerts, the most it may keep: "
                "remove one with /unalert N"
            )
        return alert_saved(saved)

    async def list_alerts(self, ask: Ask) -> str:
        """The chat's alerts, numbered."""
        return alerts_text(await self._alerts.saved(ask.chat_id), self._max_alerts)

    async def unalert(self, ask: Ask) -> str:
        """Remove the alert with the number /alerts shows."""
        if len(ask.args) != 1 or not ask.args[0].isdigit():
            return UNALERT_USAGE
        removed = await self._alerts.remove(ask.chat_id, int(ask.args[0]))
        if removed is None:
            return f"There is no alert {int(ask.args[0])}. See /alerts."
        return f"Alert {removed.number} removed. See /alerts."


def make_search_handlers(
    *,
    search: SearchStore,
    alerts: AlertStore,
    tz: tzinfo,
    clock: Callable[[], datetime],
    max_alerts: int,
    replier: Replier | None = None,
) -> list[BaseHandler[Any, Any, Any]]:
    """The five command handlers, bound to their dependencies."""
    commands = SearchCommands(
        search=search, alerts=alerts, tz=tz, clock=clock, max_alerts=max_alerts
    )
    return [
        CommandHandler(
            name,
            _replying(name, fn, replier, None),
            filters=filters.UpdateType.MESSAGE,
            block=replier is None,
        )
        for name, fn in commands.commands().items()
    ]
