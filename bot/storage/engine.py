"""Database URLs, the async engine and schema migration (Alembic, run at start-up).

`open_engine` is the one way the bot and its commands open a database: engine, migration,
disposal on exit.

`DATABASE_URL` takes the forms people paste: `sqlite:///PATH`, `postgresql://…` and Heroku's
`postgres://…`. They become SQLAlchemy async URLs (aiosqlite, asyncpg). No message raised here
ever shows the URL's password.
"""

from __future__ import annotations

import inspect
import logging
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]  # no stubs; only its signature is read
from alembic import command
from alembic.config import Config
from alembic.util import CommandError
from sqlalchemy import URL, Connection, event, make_url, text
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError, StatementError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from bot.errors import ConfigError, StoreError

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")
# Execution option read by our SQLite BEGIN hook: "IMMEDIATE" takes the write lock up front, so
# a writer waits (busy_timeout) instead of failing on a read-to-write lock upgrade.
SQLITE_BEGIN = "bot_sqlite_begin"
WRITE_OPTIONS: dict[str, Any] = {SQLITE_BEGIN: "IMMEDIATE"}
SQLITE_BUSY_TIMEOUT_MS = 30_000
# Any fixed 64-bit number; every process migrating the same database takes this advisory lock.
_MIGRATE_LOCK_KEY = 0x6D72_6276_6D69_6772
_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgres": "postgresql+asyncpg"}
_DRIVERS["postgresql"] = _DRIVERS["postgres"]
_USAGE = "use sqlite:///PATH or postgresql://USER:PASSWORD@HOST:PORT/DATABASE"


def async_url(url: str) -> str:
    """The SQLAlchemy async form of a DATABASE_URL; an explicit driver is kept as given."""
    scheme, sep, rest = url.strip().partition("://")
    if not sep:
        raise ConfigError([f"DATABASE_URL is not a database URL; {_USAGE}"])
    scheme = scheme.lower()
    backend, plus, driver = scheme.partition("+")
    if not plus:
        if backend not in _DRIVERS:
            raise ConfigError([f"DATABASE_URL: unsupported database {backend!r}; {_USAGE}"])
        return f"{_DRIVERS[backend]}://{rest}"
    if backend == "postgres":
        backend = "postgresql"
    if backend not in ("sqlite", "postgresql"):
        raise ConfigError([f"DATABASE_URL: unsupported database {backend!r}; {_USAGE}"])
    return f"{backend}+{driver}://{rest}"


def safe_url(url: URL | str) -> str:
    """The URL for messages and logs, password masked (or withheld when it cannot be parsed)."""
    try:
        parsed = url if isinstance(url, URL) else make_url(url)
    except (ArgumentError, ValueError):
        return "<unparsable database URL>"
    return parsed.render_as_string(hide_password=True)


def describe_error(exc: BaseException, url: URL) -> str:
    """One line saying what the database said, without the SQL, parameters or password."""
    cause = exc.orig if isinstance(exc, StatementError) and exc.orig is not None else exc
    message = str(cause).strip().splitlines()[0] if str(cause).strip() else ""
    message = f"{type(cause).__name__}: {message}" if message else type(cause).__name__
    if url.password:
        message = message.replace(str(url.password), "***")
    return message[:500]


def make_engine(url: str) -> AsyncEngine:
    """An async engine for a DATABASE_URL; SQLite gets WAL, foreign keys and a busy timeout."""
    try:
        parsed = make_url(async_url(url))
    except (ArgumentError, ValueError):
        # The parser's own message repeats the URL, password included.
        raise ConfigError([f"DATABASE_URL is not a valid URL; {_USAGE}"]) from None
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        _create_parent_dir(parsed)
        _enable_wal(parsed)
    else:
        parsed, connect_args = _asyncpg_connect_args(parsed)
        kwargs = {
            "connect_args": connect_args,
            "pool_size": 5,
            "max_overflow": 10,
            "pool_timeout": 30,
            "pool_recycle": 1800,  # under typical server and proxy idle cut-offs
            "pool_pre_ping": True,  # a restarted server costs one reconnect, not an error
        }
    try:
        engine = create_async_engine(parsed, **kwargs)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        problem = describe_error(exc, parsed)
        raise ConfigError([f"DATABASE_URL {safe_url(parsed)}: {problem}"]) from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_on_connect)
        event.listen(engine.sync_engine, "begin", _sqlite_on_begin)
    return engine


async def migrate(engine: AsyncEngine) -> None:
    """Run `alembic upgrade head` on the engine; idempotent, and safe from two processes at once."""
    try:
        async with engine.connect() as conn:
            sqlite = engine.dialect.name == "sqlite"
            if sqlite:
                # SQLite alters a table by copying and dropping it; with foreign keys on, the drop
                # would cascade to the rows that refer to it. The pragma only works outside a
                # transaction; the check below stands in for it until it is back on.
                await conn.run_sync(_sqlite_pragma, "foreign_keys=OFF")
            try:
                await conn.execution_options(**WRITE_OPTIONS)
                async with conn.begin():
                    await conn.run_sync(_upgrade)
            finally:
                if sqlite:
                    await conn.run_sync(_sqlite_pragma, "foreign_keys=ON")
    except (SQLAlchemyError, OSError, CommandError) as exc:
        problem = describe_error(exc, engine.url)
        raise StoreError(
            f"could not migrate the database {safe_url(engine.url)}: {problem}"
        ) from exc


@asynccontextmanager
async def open_engine(url: str) -> AsyncIterator[AsyncEngine]:
    """The engine on `url`, migrated to the newest schema; disposed of on exit."""
    engine = make_engine(url)
    try:
        await migrate(engine)
        yield engine
    finally:
        await engine.dispose()


def alembic_config(url: str | None = None) -> Config:
    """Alembic's configuration for our migrations, without an alembic.ini (for tools and tests)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        # ConfigParser interpolation would read a percent-encoded password as a reference.
        config.set_main_option("sqlalchemy.url", async_url(url).replace("%", "%%"))
    return config


def _upgrade(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        # Held until our transaction ends: a second process waits, then finds the schema at head.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATE_LOCK_KEY})
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
    if connection.dialect.name == "sqlite":
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
        if broken:
            tables = ", ".join(sorted({str(row[0]) for row in broken}))
            raise CommandError(f"the migration broke foreign keys in {tables}")


def _sqlite_pragma(connection: Connection, pragma: str) -> None:
    # Straight to the driver: going through SQLAlchemy would begin a transaction first.
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(f"PRAGMA {pragma}")
    finally:
        cursor.close()


def _create_parent_dir(url: URL) -> None:
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return
    try:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            [f"DATABASE_URL: cannot create the directory of {database}: {exc}"]
        ) from exc


def _enable_wal(url: URL) -> None:
    """Switch a database file to WAL once, here, rather than on every pooled connection.

    WAL is a property of the file. Switching needs an exclusive lock, and SQLite may answer
    "database is locked" at once, without its busy handler, when another connection is opening
    the file at that moment; so we retry, briefly, while the bot starts.
    """
    database = url.database or ""
    if database in ("", ":memory:") or url.query.get("mode") == "memory":
        return
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            with closing(sqlite3.connect(database, uri=database.startswith("file:"))) as db:
                db.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) and time.monotonic() < deadline:
                time.sleep(0.05)  # start-up only, before the bot does anything else
                continue
            raise StoreError(f"could not open the database {database}: {exc}") from exc
        return


def _asyncpg_connect_args(url: URL) -> tuple[URL, dict[str, Any]]:
    """Turn libpq query options that asyncpg does not take as keywords into ones it does."""
    if url.get_driver_name() != "asyncpg":
        return url, {}
    query = dict(url.query)
    connect_args: dict[str, Any] = {"timeout": 10}
    sslmode = query.pop("sslmode", None)
    if isinstance(sslmode, str):  # Heroku and most hosted servers append ?sslmode=require
        connect_args["ssl"] = sslmode
    options = query.pop("options", None)
    if isinstance(options, str):  # e.g. options=-csearch_path=myschema
        connect_args["server_settings"] = _server_settings(options)
    # asyncpg would only fail on connecting, with a TypeError, on a parameter it does not take.
    known = set(inspect.signature(asyncpg.connect).parameters) | {"prepared_statement_cache_size"}
    unknown = sorted(set(query) - known)
    if unknown:
        raise ConfigError([f"DATABASE_URL: unsupported parameter(s) {', '.join(unknown)}"])
    return url.set(query=query), connect_args


def _server_settings(options: str) -> dict[str, str]:
    settings: dict[str, str] = {}
    words = options.split()
    for i, word in enumerate(words):
        if word == "-c" and i + 1 < len(words):
            word = "-c" + words[i + 1]
        if word.startswith("-c") and "=" in word:
            name, _, value = word[2:].partition("=")
            settings[name] = value
    return settings


def _sqlite_on_connect(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    # The sqlite3 module's own transaction handling skips BEGIN before DDL and cannot take the
    # write lock up front; we emit BEGIN ourselves in _sqlite_on_begin (SQLAlchemy's recipe).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS:d}")
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable enough in WAL, far fewer fsyncs
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _sqlite_on_begin(conn: Connection) -> None:
    mode = conn.get_execution_options().get(SQLITE_BEGIN)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if mode == "IMMEDIATE" else "BEGIN")
