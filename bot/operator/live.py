"""The running config: the files in BOT_CONFIG_DIR with the operators' stored edits replayed on top.

Why a log of edits rather than a stored copy of each edited entry: an edit records what the operator
asked for ("add 'Baku' to azerbaijan-iran/azerbaijan", "pause caliber-az"), so a later change to the
files still shows through everything the operator did not touch (a fixed URL is not hidden behind a
paused copy of the old entry). Replay is declarative: an edit whose goal the files already meet is
a no-op (so folding an export back into the files leaves the log harmless), and one that can no
longer apply (its source or group was deleted from the files, or the files now define its id) is
skipped and listed in `Effective.stale` instead of blocking the files. Every result, from a new edit
or from replay, passes the validation the files pass (`sources_from_data`, `topics_from_data`).

The log is also the audit trail; `undo` marks the newest active edit undone (and logs the undo).
`watch` polls the files' content hash and the log's newest id, so edits made by another process on
the same database (the CLI) go live too.

Replay and validation themselves live in `bot.operator.replay` (pure); reading and hashing the
files in `bot.operator.files`; reading and writing the stored log, one change per transaction, in
`bot.operator.editlog` (`EditLog`, which `LiveConfig` builds). This module holds the state and the
order of operations around them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.errors import ConfigError, StoreError
from bot.models import Source, Topic
from bot.operator import files
from bot.operator.compaction import AUTO_COMPACT_AT, KEEP_RECENT, Compaction
from bot.operator.editlog import AuditEntry, EditLog, EditResult, Replayed
from bot.operator.edits import ConfigData, Edit, apply_edit
from bot.operator.files import SOURCES_FILE, TOPICS_FILE
from bot.operator.replay import validate
from bot.storage.outage import OutageReporter
from bot.storage.overlay import OverlayStore

log = logging.getLogger(__name__)

# SOURCES_FILE and TOPICS_FILE were defined here before `files` existed; still importable from here.
__all__ = [
    "SOURCES_FILE",
    "TOPICS_FILE",
    "AuditEntry",
    "EditResult",
    "Effective",
    "Listener",
    "LiveConfig",
]

Listener = Callable[["Effective"], Awaitable[None]]


@dataclass(frozen=True)
class Effective:
    """The config in force: validated sources and topics, and when they were put in force."""

    sources: tuple[Source, ...]
    topics: tuple[Topic, ...]
    loaded_at: datetime
    stale: tuple[str, ...] = ()  # stored edits the files no longer allow, skipped, with why
    edits: int = 0  # active stored edits replayed over the files


class LiveConfig:
    """Files plus stored edits, kept valid and current; listeners hear of every change."""

    def __init__(
        self,
        *,
        config_dir: Path,
        overlay: OverlayStore,
        clock: Callable[[], datetime],
        compact_at: int = AUTO_COMPACT_AT,
        compact_keep: int = KEEP_RECENT,
    ) -> None:
        self._dir = config_dir
        self._compact_at, self._compact_keep = compact_at, compact_keep
        self._overlay = overlay
        self._log = EditLog(overlay, clock=clock)
        self._clock = clock
        self._listeners: list[Listener] = []
        self._lock = asyncio.Lock()  # one change at a time in this process
        self._current: Effective | None = None
        self._base: ConfigData | None = None  # the files as last read without error
        self._data: ConfigData | None = None  # files + edits, as raw data
        self._digest: str | None = None  # of the files behind `_base`
        self._version = -1  # newest change id behind `_data`

    @property
    def config_dir(self) -> Path:
        """The directory holding sources.toml and topics.toml."""
        return self._dir

    @property
    def overlay(self) -> OverlayStore:
        """The stored edit log (the channel audit rows share it)."""
        return self._overlay

    @property
    def current(self) -> Effective:
        """The config in force; RuntimeError before the first successful `load`."""
        if self._current is None:
            raise RuntimeError("LiveConfig.load() has not succeeded yet")
        return self._current

    @property
    def data(self) -> ConfigData:
        """The config in force as raw TOML data (for `config show` and `config export`)."""
        if self._data is None:
            raise RuntimeError("LiveConfig.load() has not succeeded yet")
        return self._data

    def subscribe(self, listener: Listener) -> None:
        """Call `listener` with the new config after each change (load, reload, edit, undo)."""
        self._listeners.append(listener)

    async def load(self) -> Effective:
        """Read the files and replay the stored edits; ConfigError (nothing changes) on problems."""
        async with self._lock:
            base, digest = files.read_files(self._dir)
            validate(base, str(self._dir / SOURCES_FILE), str(self._dir / TOPICS_FILE))
            await self._replay_and_publish(base, digest)
        return self.current

    async def reload(self) -> Effective:
        """`load` again; on ConfigError the last good config keeps running and the error is raised."""
        failure: ConfigError | None = None
        try:
            effective = await self.load()
        except ConfigError as exc:
            failure = exc
        if failure is not None:
            log.error("config reload failed, the last good config keeps running: %s", failure)
            raise failure
        log.info(
            "config reloaded: %d sources, %d topics, %d operator edits",
            len(effective.sources),
            len(effective.topics),
            effective.edits,
        )
        return effective

    async def check(self, edit: Edit) -> None:
        """Raise ConfigError, as `apply` would, if the edit would be refused now; writes nothing."""
        validate(apply_edit(self.data, edit), "operator edit", "operator edit")

    async def apply(self, edit: Edit, *, actor: str) -> EditResult:
        """Validate, store and put in force one edit; ConfigError (nothing changes) if refused."""
        async with self._lock:
            base = self._require_base()
            replayed, result = await self._log.add(base, edit, actor=actor)
            log.info("config edit #%d by %s: %s", result.audit_id, actor, result.summary)
            effective = self._put_in_force(base, self._digest, replayed)
        await self._notify(effective)
        await self._compact_if_long(actor)
        return result

    async def undo(self, *, actor: str) -> EditResult:
        """Revert the newest edit not yet undone (and log the undo); ConfigError when none is left."""
        async with self._lock:
            base = self._require_base()
            replayed, result = await self._log.undo(base, actor=actor)
            log.info("config edit #%d by %s: %s", result.audit_id, actor, result.summary)
            effective = self._put_in_force(base, self._digest, replayed)
        await self._notify(effective)
        return result

    async def compact(self, *, actor: str, keep_recent: int = KEEP_RECENT) -> Compaction:
        """Fold old edits into their net effect (see `bot.operator.compaction`) and log what went.

        Refused (ConfigError, nothing changes) if the compacted log would replay differently over
        the files as they are: the rules say it cannot, and this makes sure.
        """
        async with self._lock:
            result, change_id = await self._log.compact(
                self._require_base(), actor=actor, keep_recent=keep_recent
            )
            if change_id is None:
                return result
            self._version = max(self._version, change_id)
        log.info("config edit #%d by %s: %s", change_id, actor, result.summary)
        return result

    async def _compact_if_long(self, actor: str) -> None:
        """Compact once the log holds more than `compact_at` changes."""
        if await self._overlay.count() > self._compact_at:
            try:
                await self.compact(actor=actor, keep_recent=self._compact_keep)
            except ConfigError as exc:  # the edit itself stands; compaction waits for the next
                log.warning("automatic compaction of the edit log skipped: %s", exc)

    async def record(self, *, actor: str, action: str, target: str, before: Any, after: Any) -> int:
        """Log a change made elsewhere (a channel added) in the audit trail; not undoable here."""
        return await self._log.record(
            actor=actor, action=action, target=target, before=before, after=after
        )

    async def audit(self, n: int = 10) -> list[AuditEntry]:
        """The newest `n` changes, newest first."""
        return await self._log.audit(n)

    async def watch(
        self,
        *,
        interval: float = 2.0,
        on_error: Callable[[ConfigError], Awaitable[None]],
    ) -> None:
        """Until cancelled: reload when the files change on disk or another process edits.

        A broken file is reported once per distinct content, and the last good config keeps
        running; edits stored meanwhile still go live, over the last good files.
        """
        broken: str | None = None
        outage = OutageReporter("config watch", log)
        while True:
            await asyncio.sleep(interval)
            digest = files.digest(self._dir)
            try:
                version = await self._overlay.version()
                outage.succeeded()
            except StoreError as exc:  # a database outage must not end the watch
                outage.failed(exc)
                continue
            if digest not in (self._digest, broken):
                try:
                    await self.reload()
                    broken = None
                except ConfigError as exc:
                    broken = digest
                    await on_error(exc)
            elif version != self._version:
                async with self._lock:
                    await self._replay_and_publish(self._require_base(), self._digest)

    def _require_base(self) -> ConfigData:
        if self._base is None:
            raise RuntimeError("LiveConfig.load() has not succeeded yet")
        return self._base

    async def _replay_and_publish(self, base: ConfigData, digest: str | None) -> None:
        replayed = await self._log.replayed(base)
        for reason in replayed.stale:
            log.warning("stored operator edit skipped: %s", reason)
        await self._notify(self._put_in_force(base, digest, replayed))

    def _put_in_force(self, base: ConfigData, digest: str | None, replayed: Replayed) -> Effective:
        """Make `replayed` (over the files `base`, of hash `digest`) the config in force."""
        effective = Effective(
            replayed.sources, replayed.topics, self._clock(), replayed.stale, replayed.edits
        )
        self._base, self._digest, self._data = base, digest, replayed.data
        self._version = max(self._version, replayed.version)
        self._current = effective
        return effective

    async def _notify(self, effective: Effective) -> None:
        for listener in self._listeners:
            try:
                await listener(effective)
            # The change is already in force and stored; one failing listener must neither
            # undo it nor keep the others from hearing of it.
            except Exception:
                log.exception("config listener %r failed", listener)
