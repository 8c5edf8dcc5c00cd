"""One `run` at a time on a SQLite file: an OS lock on a sidecar file `<database>.run.lock`.

Two `run`s on one SQLite file would corrupt nothing, but both would poll every source and send
every message. PostgreSQL needs no such lock: there the processes share the work through claims
and a leader lease (`bot.storage.leases`). The lock is `flock` on the sidecar, never on the
database itself (SQLite takes its own POSIX locks there): the kernel drops it when the process
exits, however it exits, so a crash leaves nothing to clean up. The file names its holder, so the
refusal can say who has it. Commands that only read or make single edits (`latest`, `match`,
`config …`) take no lock and keep working beside a `run`; `fetch --once` takes it too.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError

from bot.errors import StoreError
from bot.storage.engine import async_url

SUFFIX = ".run.lock"


class DatabaseBusyError(StoreError):
    """Another process holds the SQLite file's run lock."""


def lock_path(database_url: str) -> Path | None:
    """The sidecar lock file of a SQLite database file; None for PostgreSQL or an in-memory one."""
    try:
        url = make_url(async_url(database_url))
    except (ArgumentError, ValueError):
        return None  # make_engine reports the bad URL
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return None
    if database.startswith("file:") or url.query.get("mode") == "memory":
        return None
    return Path(database).expanduser().with_name(Path(database).name + SUFFIX)


@contextmanager
def run_lock(database_url: str, *, command: str) -> Iterator[None]:
    """Hold the run lock of a SQLite database for the block; DatabaseBusyError if another has it."""
    path = lock_path(database_url)
    if path is None:
        yield
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StoreError(f"cannot open the lock file {path}: {exc.strerror or exc}") from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another process"
            database = path.name.removesuffix(SUFFIX)
            raise DatabaseBusyError(
                f"{database} is in use by {holder}: one `run` or `fetch --once` at a time on a "
                "SQLite database (use PostgreSQL to run several processes)"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"`python -m bot {command}` (pid {os.getpid()})\n".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
