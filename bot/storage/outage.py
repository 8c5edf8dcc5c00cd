"""How a long-running part tells of a database outage: one WARNING when it starts, at most one
reminder per `remind_every` seconds while it lasts, one INFO with its length when it ends.

The poll runs, the config watch, the delivery loop and the leader lease each hold one
`OutageReporter` and call `failed(exc)` on every `StoreError` and `succeeded()` after every
database call that worked. Only the expected fault goes through here (a `StoreError` already
names the database, password masked, in one line); anything else is still logged with its
traceback where it is caught. Failures between reminders go to DEBUG, so nothing is hidden from
a debugging operator.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

REMIND_EVERY = 60.0  # seconds between reminders of one outage, per part


def outage_length(seconds: float) -> str:
    """ "42 s", "3 min 5 s", "1 h 2 min": how long an outage lasted, for people."""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"


class OutageReporter:
    """The log lines of one part's database outages (see the module docstring)."""

    def __init__(
        self,
        part: str,
        log: logging.Logger,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        remind_every: float = REMIND_EVERY,
    ) -> None:
        self.part = part
        self._log = log
        self._monotonic = monotonic
        self._remind_every = remind_every
        self._since: float | None = None  # when the current outage began
        self._said: float = 0.0  # when it was last reported
        self.failures = 0  # failures in the current outage

    @property
    def down(self) -> bool:
        """Whether this part is in an outage now."""
        return self._since is not None

    def failed(self, exc: BaseException) -> None:
        """A database call failed with the expected fault (`StoreError`)."""
        now = self._monotonic()
        self.failures += 1
        if self._since is None:
            self._since = self._said = now
            self._log.warning(
                "%s: the database is unreachable, retrying (a reminder each %s while it lasts): %s",
                self.part,
                outage_length(self._remind_every),
                exc,
            )
        elif now - self._said >= self._remind_every:
            self._said = now
            self._log.warning(
                "%s: the database is still unreachable after %s (%d failed attempts): %s",
                self.part,
                outage_length(now - self._since),
                self.failures,
                exc,
            )
        else:
            self._log.debug("%s: the database is still unreachable: %s", self.part, exc)

    def succeeded(self) -> None:
        """A database call worked: ends the outage, if there was one."""
        if self._since is None:
            return
        lasted = self._monotonic() - self._since
        self._log.info(
            "%s: the database is back after %s (%d failed attempts)",
            self.part,
            outage_length(lasted),
            self.failures,
        )
        self._since = None
        self.failures = 0
