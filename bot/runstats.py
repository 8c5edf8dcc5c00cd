"""Process figures for the periodic "stats:" log line: asyncio tasks, open files, resident memory.

`run_bot` logs one line a minute so that an operator (or `benchmarks/soak.py`) can see leaks:
counts that should stay flat over days. Linux's /proc gives the open descriptors and the
resident set; elsewhere those read as -1 and only the task count is meaningful.
"""

from __future__ import annotations

import asyncio
import logging
import os
import resource
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

_PROC_SELF = Path("/proc/self")


@dataclass(frozen=True, slots=True)
class ProcessStats:
    """One sample: tasks on the running loop, open file descriptors, resident set in bytes."""

    tasks: int
    fds: int
    rss: int
    max_rss: int

    def line(self) -> str:
        """The log line, e.g. "stats: tasks=23 fds=41 rss=88.1MB max_rss=90.2MB"."""
        return (
            f"stats: tasks={self.tasks} fds={self.fds} "
            f"rss={self.rss / 1e6:.1f}MB max_rss={self.max_rss / 1e6:.1f}MB"
        )


def sample() -> ProcessStats:
    """Figures for this process; call from inside the event loop."""
    return ProcessStats(
        tasks=len(asyncio.all_tasks()), fds=_open_fds(), rss=_rss(), max_rss=_max_rss()
    )


async def log_periodically(interval: float) -> None:
    """Log `sample().line()` every `interval` seconds until cancelled."""
    while True:
        log.info("%s", sample().line())
        await asyncio.sleep(interval)


def _open_fds() -> int:
    try:
        return len(os.listdir(_PROC_SELF / "fd"))
    except OSError:
        return -1


def _rss() -> int:
    try:
        with open(_PROC_SELF / "statm", encoding="ascii") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return -1


def _max_rss() -> int:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
