"""Operator alerts: a source failing or gone silent (and its recovery), and a broken config file.

Several processes may poll the sources of one database (each run claimed by one of them), so the
source alerts keep no memory of their own: each run is judged from what the database says about
it (`SourceReport`'s stored history, and the source's newest item stored before it), and every
alert marks a crossing that exactly one run can see, whichever process made it:

- "failing": the failed run whose stored count of failures in a row reaches
  `AlertPolicy.failures` (the database increments the count, so one run sees each value);
- "recovered": a good run whose stored count before it was at or above the threshold;
- "silent": the good run on which the source's silence first reaches `AlertPolicy.silence` (its
  deadline — the newest earlier item's first sight, else the source's addition, plus the
  silence — falls after the previous good run and by this one); failed runs judge no silence;
- "resumed": a run with new items after a good run that was already past that deadline (the
  run that said "silent", or a later one).

So twenty failures in a row make one "failing" alert and one "recovered", a restart or a new
leader repeats nothing and forgets nothing, and two processes never both say the same thing.
Silence is judged this way too, not by the leader alone (a take-over would repeat standing
silences or miss one that began between two looks) nor with a stored flag (a migration for what
the stored history already says); its price is one small read per good run (`last_news`). The
decision is pure: `step(facts, ...)` takes the `Facts` of one run and returns its alerts.

Sending is thin: `notify_admins` posts one HTML message to each operator; a failure to reach one
is logged and does not stop the others. `SourceAlerts.on_report` is the scheduler's per-run hook.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Literal

from bot.errors import ConfigError, StoreError
from bot.models import Source
from bot.polling.decide import SourceReport
from bot.text.durations import format_duration
from bot.text.formatting import clean, format_time, trim
from bot.text.markup import escape_text

log = logging.getLogger(__name__)

AlertKind = Literal["failing", "recovered", "silent", "resumed"]
_ERROR_CHARS = 300  # of a fetch error in an alert
_CONFIG_CHARS = 3500  # of the problem list in a config alert: the message limit is 4096
# `bot.storage.ops.OpsStore.last_news`: (source id, before) → the newest item's first sight before
# then, else when the source was added; None for a source the database does not know.
LastNews = Callable[[str, datetime], Awaitable[datetime | None]]


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
class Alert:
    """One thing to tell the operators about a source."""

    source_id: str
    kind: AlertKind
    failures: int = 0  # failed runs in a row (for "failing"), or the run that ended ("recovered")
    error: str | None = None
    since: datetime | None = None  # last new items, or the source's addition (for "silent")


@dataclass(frozen=True, slots=True)
class Facts:
    """What the database says about one stored run of a source; its alerts follow from these."""

    ok: bool
    at: datetime  # when the run stored its outcome
    failures_before: int  # failed runs in a row, as stored when the run began
    failures: int  # and as stored after it (0 after a good run)
    last_success_before: datetime | None  # the good run before this one
    new_items: int = 0
    quiet_since: datetime | None = None  # newest item stored before the run, else the addition
    error: str | None = None


def step(facts: Facts, *, source_id: str, policy: AlertPolicy) -> list[Alert]:
    """The alerts one run calls for (usually none)."""
    if not facts.ok:
        if facts.failures_before < policy.failures <= facts.failures:
            return [Alert(source_id, "failing", failures=facts.failures, error=facts.error)]
        return []
    alerts: list[Alert] = []
    if facts.failures_before >= policy.failures:
        alerts.append(Alert(source_id, "recovered", failures=facts.failures_before))
    if facts.quiet_since is None:
        return alerts
    deadline = facts.quiet_since + policy.silence
    previous = facts.last_success_before
    if facts.new_items > 0:
        if previous is not None and deadline <= previous:
            alerts.append(Alert(source_id, "resumed"))
    elif deadline <= facts.at and (previous is None or previous < deadline):
        alerts.append(Alert(source_id, "silent", since=facts.quiet_since))
    return alerts


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


# ----------------------------------------------------------------- sending (injected)

# Sends HTML text to every operator and says how many got it; never raises for one operator's
# failure (`bot.telegram.operators.AdminNotifier` in the bot).
Notify = Callable[[str], Awaitable[int]]


class SourceAlerts:
    """The scheduler's `on_report` hook: judges each stored run, alerts the operators on changes."""

    def __init__(
        self,
        *,
        notify: Notify,
        last_news: LastNews,
        tz: tzinfo,
        policy: AlertPolicy | None = None,
    ) -> None:
        self.notify = notify
        self.last_news = last_news
        self.tz = tz
        self.policy = policy or AlertPolicy()

    async def on_report(self, source: Source, report: SourceReport) -> None:
        """Judge one run; send one message to each operator if it changed what they know."""
        alerts = await self.judge(source.id, report)
        if not alerts:
            return
        for alert in alerts:
            log.warning("source=%s operator alert: %s", source.id, alert.kind)
        text = "\n\n".join(alert_text(a, source, tz=self.tz, policy=self.policy) for a in alerts)
        await self.notify(text)

    async def judge(self, source_id: str, report: SourceReport) -> Sequence[Alert]:
        """The alerts a run's report calls for, asking the database for the source's last news."""
        if report.at is None:
            return []  # the run crashed before it stored anything: nothing crossed
        ok = report.outcome != "failed"
        quiet_since = None
        if ok:
            try:
                quiet_since = await self.last_news(source_id, report.at)
            except StoreError as exc:
                # Only this run's silence goes unjudged; were it the crossing, that one "silent"
                # alert is lost (a later run is past it), never sent twice.
                log.warning("source=%s: cannot judge its silence: %s", source_id, exc)
        facts = Facts(
            ok=ok,
            at=report.at,
            failures_before=report.failures_before,
            failures=report.failures,
            last_success_before=report.last_success_before,
            new_items=report.new_items,
            quiet_since=quiet_since,
            error=report.error,
        )
        return step(facts, source_id=source_id, policy=self.policy)


class ConfigAlerts:
    """Tells the operators once about a broken config file (LiveConfig.watch's `on_error`)."""

    def __init__(self, *, notify: Notify) -> None:
        self.notify = notify
        self._last: tuple[str, ...] | None = None

    async def on_error(self, error: ConfigError) -> None:
        """Alert the operators, unless they were already told about exactly these problems."""
        log.error("config reload failed; keeping the last good config: %s", error)
        if error.problems == self._last:
            return
        self._last = error.problems
        await self.notify(config_error_text(error))

    async def on_change(self, effective: object) -> None:
        """A LiveConfig listener: after a good (re)load, the next breakage is news again."""
        self._last = None
