"""Whether the database a read-only command names exists, asked before anything opens it.

`latest`, `digest`, `config show`, `config audit` … only read: on a SQLite URL whose file does
not exist they refuse with one line naming the URL, instead of creating an empty database (and
its folders) and reporting "no flagged items yet" — a typo in `DATABASE_URL` would otherwise
look like an empty bot. PostgreSQL answers for itself when connecting ("database … does not
exist"), which the command reports in one line too.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.errors import ConfigError, StoreError
from bot.storage.engine import async_url, safe_url


def require_existing(url: str) -> None:
    """StoreError (one line naming the URL) when `url` is a SQLite file that does not exist."""
    try:
        parsed = make_url(async_url(url))
    except (ArgumentError, ValueError, ConfigError):
        return  # make_engine says what is wrong with it
    if parsed.get_backend_name() != "sqlite":
        return
    database = parsed.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return
    path = Path(database)
    if not path.is_file():
        what = "is a folder, not a database file" if path.is_dir() else "does not exist"
        raise StoreError(
            f"no database at {safe_url(url)}: {path} {what}; check DATABASE_URL "
            "(`run` and `fetch --once` create it)"
        )


def database_exists(url: str) -> bool:
    """False only when `url` is a SQLite file that is not there (other databases: assumed)."""
    try:
        require_existing(url)
    except StoreError:
        return False
    return True
