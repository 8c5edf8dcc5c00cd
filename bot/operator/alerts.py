"""Operator alerts: a source failing or gone silent (and its recovery), and a broken config file.

The decision is pure: `step(watch, ...)` takes what is remembered of a source (`Watch`), the outcome
of one run and the time, and returns the new memory and the alerts to send, so a source failing
twenty times in a row produces one "failing" alert (when the count reaches `AlertPolicy.failures`)
and one "recovered" alert on its next good run. Silence ("no new items for `AlertPolicy.silence`")
is judged only on good runs, and not while a failing alert stands; new items end it ("resumed").

Sending is thin: `notify_admins` posts one HTML message to each operator; a failure to reach one
is logged and does not stop the others. `SourceAlerts.on_report` is the scheduler's per-run hook.

Across restarts: nothing is written. `SourceAlerts.prime` rebuilds the memory from the store: a
source whose stored consecutive failures already reach the threshold was alerted before the
restart (so it is not alerted again, and its recovery still is), and silence counts from the
newest stored item of the source. A "silent" alert standing at a restart is sent once more.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, tzinfo
from typing import Literal

from telegram import Bot, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.durations import format_duration
from bot.errors import ConfigError
from bot.formatting import clean, format_time, trim
from bot.markup import escape_text
from bot.models import Source, SourceState
from bot.pipeline import SourceReport

log = logging.getLogger(__name__)

AlertKind = Literal["failing", "recovered", "silent", "resumed"]
_ERROR_CHARS = 300  # of a fetch error in an alert
_CONFIG_CHARS = 3500  # of the problem list in a config alert: the message limit is 4096
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


@dataclass(frozen=True, slots=True)
class AlertPolicy:
    """When to tell the operators: after `failures` failed runs in a row, or `silence` without news."""

    failures: int = 5
    silence: timedelta = timedelta(hours=48)

    def __post_init__(self) -> None:
        if self.failures < 1:
            raise ValueError("alert after at least one failure")
        if self.silence <= timedelta(0):
            raise ValueError("the silence threshold must be positive")


@dataclass(frozen=True, slots=True)
class Watch:
    """What is remembered of one source between its runs."""

    failures: int = 0  # failed runs in a row
    failing: bool = False  # the operators were told it is failing
    last_new: datetime | None = None  # when it last gave new items (or was first watched)
    silent: bool = False  # the operators were told it is silent


@dataclass(frozen=True, slots=True)
class Alert:
    """One thing to tell the operators about a source."""

    source_id: str
    kind: AlertKind
    failures: int = 0  # failed runs in a row (for "failing"), or the run that ended ("recovered")
    error: str | None = None
    since: datetime | None = None  # last new items (for "silent")


def primed(state: SourceState | None, last_new: datetime | None, policy: AlertPolicy) -> Watch:
    """The memory of a source rebuilt from the store after a restart."""
    failures = state.consecutive_failures if state is not None else 0
    return Watch(failures=failures, failing=failures >= policy.failures, last_new=last_new)


def step(
    watch: Watch,
    *,
    source_id: str,
    ok: bool,
    new_items: int,
    error: str | None,
    now: datetime,
    policy: AlertPolicy,
) -> tuple[Watch, list[Alert]]:
    """The memory after one run, and the alerts that run calls for (usually none)."""
    alerts: list[Alert] = []
    if not ok:
        failures = watch.failures + 1
        failing = watch.failing
        if not failing and failures >= policy.failures:
            failing = True
            alerts.append(Alert(source_id, "failing", failures=failures, error=error))
        last_new = watch.last_new or now
        return replace(watch, failures=failures, failing=failing, last_new=last_new), alerts
    if watch.failing:
        alerts.append(Alert(source_id, "recovered", failures=watch.failures))
    silent = watch.silent
    last_new = watch.last_new or now
    if new_items > 0:
        last_new = now
        if silent:
            silent = False
            alerts.append(Alert(source_id, "resumed"))
    elif not silent and now - last_new >= policy.silence:
        silent = True
        alerts.append(Alert(source_id, "silent", since=watch.last_new))
    return Watch(failures=0, failing=False, last_new=last_new, silent=silent), alerts


# ----------------------------------------------------------------- texts (pure)


def _who(source: Source | None, source_id: str) -> str:
    name = trim(clean(source.name), 64) if source is not None else ""
    code = f"<code>{escape_text(source_id)}</code>"
    return f"<b>{escape_text(name)}</b> ({code})" if name and name != source_id else code


def alert_text(alert: Alert, source: Source | None, *, tz: tzinfo, policy: AlertPolicy) -> str:
    """One alert as a line of Telegram HTML, every dynamic part escaped."""
    who = _who(source, alert.source_id)
    if alert.kind == "failing":
        reason = escape_text(trim(clean(alert.error or "unknown error"), _ERROR_CHARS))
        return (
            f"⚠️ Source {who} has failed {alert.failures} times in a row.\n"
            f"Last error: {reason}\n"
            "It is still polled, less often. See /sources; "
            f"<code>/pause {escape_text(alert.source_id)}</code> stops it."
        )
    if alert.kind == "recovered":
        return f"✅ Source {who} works again (after {alert.failures} failed runs)."
    if alert.kind == "silent":
        since = (
            f"since {format_time(alert.since, tz)}"
            if alert.since is not None
            else f"for {format_duration(policy.silence.total_seconds())}"
        )
        return f"🔇 Source {who} has returned no new items {since}. Is the feed still updated?"
    return f"✅ Source {who} has new items again."


def config_error_text(error: ConfigError) -> str:
    """The alert for an edited config file that does not load: its problems, escaped and capped."""
    problems = [clean(p) for p in error.problems] or [str(error)]
    shown: list[str] = []
    used = 0
    for n, problem in enumerate(problems):
        line = "• " + trim(problem, 500)
        if used + len(line) > _CONFIG_CHARS:
            shown.append(f"… and {len(problems) - n} more")
            break
        shown.append(line)
        used += len(line) + 1
    body = escape_text("\n".join(shown))
    return (
        "❌ <b>An edited config file has errors</b>; the last good config keeps running.\n"
        f"{body}\nFix the file, or send /reload after fixing it."
    )


# ----------------------------------------------------------------- sending (thin)


async def notify_admins(bot: Bot, admin_ids: Collection[int], text: str) -> int:
    """Send `text` (HTML) to every operator; returns how many got it. Never raises TelegramError."""
    delivered = 0
    for admin_id in sorted(set(admin_ids)):
        try:
            await bot.send_message(
                admin_id, text, parse_mode=ParseMode.HTML, link_preview_options=_NO_PREVIEW
            )
        except TelegramError as exc:
            # One operator who blocked the bot must not keep the alert from the others.
            log.warning("could not alert operator %s: %s", admin_id, exc)
        else:
            delivered += 1
    return delivered


class SourceAlerts:
    """The scheduler's `on_report` hook: remembers each source, alerts the operators on changes."""

    def __init__(
        self,
        *,
        bot: Bot,
        admin_ids: Collection[int],
        clock: Callable[[], datetime],
        tz: tzinfo,
        policy: AlertPolicy | None = None,
    ) -> None:
        self.bot = bot
        self.admin_ids = admin_ids
        self.clock = clock
        self.tz = tz
        self.policy = policy or AlertPolicy()
        self.watches: dict[str, Watch] = {}

    def prime(self, states: Mapping[str, SourceState], newest: Mapping[str, datetime]) -> None:
        """Rebuild the memory after a restart from the store's source states and newest items."""
        for source_id in set(states) | set(newest):
            self.watches[source_id] = primed(
                states.get(source_id), newest.get(source_id), self.policy
            )

    async def on_report(self, source: Source, report: SourceReport) -> None:
        """Judge one run; send one message to each operator if it changed what they know."""
        alerts = self.judge(source.id, report)
        if not alerts:
            return
        for alert in alerts:
            log.warning("source=%s operator alert: %s", source.id, alert.kind)
        text = "\n\n".join(alert_text(a, source, tz=self.tz, policy=self.policy) for a in alerts)
        if self.admin_ids:
            await notify_admins(self.bot, self.admin_ids, text)
        else:
            log.warning("source=%s: no BOT_ADMIN_IDS to alert", source.id)

    def judge(self, source_id: str, report: SourceReport) -> Sequence[Alert]:
        """Update the memory of `source_id` with a run's report; the alerts it calls for."""
        watch, alerts = step(
            self.watches.get(source_id, Watch()),
            source_id=source_id,
            ok=report.outcome != "failed",
            new_items=report.new_items,
            error=report.error,
            now=self.clock(),
            policy=self.policy,
        )
        self.watches[source_id] = watch
        return alerts


class ConfigAlerts:
    """Tells the operators once about a broken config file (LiveConfig.watch's `on_error`)."""

    def __init__(self, *, bot: Bot, admin_ids: Collection[int]) -> None:
        self.bot = bot
        self.admin_ids = admin_ids
        self._last: tuple[str, ...] | None = None

    async def on_error(self, error: ConfigError) -> None:
        """Alert the operators, unless they were already told about exactly these problems."""
        log.error("config reload failed; keeping the last good config: %s", error)
        if error.problems == self._last:
            return
        self._last = error.problems
        await notify_admins(self.bot, self.admin_ids, config_error_text(error))

    async def on_change(self, effective: object) -> None:
        """A LiveConfig listener: after a good (re)load, the next breakage is news again."""
        self._last = None
