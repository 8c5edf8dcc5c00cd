"""bot.storage.engine: DATABASE_URL forms, engine set-up, Alembic migration, password-free errors."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

import bot.storage.chat_tables
import bot.storage.overlay_tables
import bot.storage.retention_tables
import bot.storage.story_tables
import bot.storage.websub_tables  # noqa: F401  (their tables join the shared metadata on import)
from bot.errors import ConfigError, StoreError
from bot.storage.engine import (
    alembic_config,
    async_url,
    describe_error,
    make_engine,
    migrate,
    safe_url,
)
from bot.storage.search_tables import outside_metadata, schema_object
from bot.storage.tables import metadata
from tests.db import postgres_base_url

PASSWORD = "s3cr3t-Pa55"  # noqa: S105  (a password that must never show up in a message)
HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()
TABLES = {
    "alembic_version",
    "alerts",
    "alert_hits",
    "sources",
    "source_state",
    "items",
    "item_topics",
    "chats",
    "subscriptions",
    "outbox",
    "config_changes",
    "websub_subscriptions",
    "retired_keys",
    "story_items",
    "labels",
    "digests_sent",
    "leases",
    "review_outbox",
}


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:///data/bot.db", "sqlite+aiosqlite:///data/bot.db"),
        ("sqlite:////var/lib/bot.db", "sqlite+aiosqlite:////var/lib/bot.db"),
        ("sqlite:///:memory:", "sqlite+aiosqlite:///:memory:"),
        ("postgresql://u:p@db:5432/bot", "postgresql+asyncpg://u:p@db:5432/bot"),
        (
            "postgres://u:p@db/bot?sslmode=require",
            "postgresql+asyncpg://u:p@db/bot?sslmode=require",
        ),
        ("postgresql+asyncpg://u@db/bot", "postgresql+asyncpg://u@db/bot"),
        ("postgres+asyncpg://u@db/bot", "postgresql+asyncpg://u@db/bot"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("postgresql+psycopg://u@db/bot", "postgresql+psycopg://u@db/bot"),
    ],
)
def test_async_url_picks_the_async_driver_and_keeps_explicit_ones(given, expected):
    assert async_url(given) == expected


@pytest.mark.parametrize(
    "given", ["mysql://u:p@db/bot", "bot.db", "", f"oracle+cx://u:{PASSWORD}@db/x"]
)
def test_async_url_rejects_other_databases_with_a_config_error(given):
    with pytest.raises(ConfigError, match="DATABASE_URL") as caught:
        async_url(given)
    assert PASSWORD not in str(caught.value)


@pytest.mark.parametrize(
    "given",
    [
        f"postgresql://user:{PASSWORD}@db:notaport/bot",
        f"postgresql://user:{PASSWORD}@db/bot?x=1&x",
        f"postgresql+nosuchdriver://user:{PASSWORD}@db/bot",
        f"postgresql+psycopg2://user:{PASSWORD}@db/bot",  # not an async driver
    ],
)
def test_a_bad_url_gives_a_config_error_without_the_password(given):
    with pytest.raises(ConfigError) as caught:
        make_engine(given)
    assert PASSWORD not in str(caught.value)


async def test_a_refused_connection_gives_a_store_error_without_the_password():
    # Port 1 on loopback: nothing listens, the connection is refused at once.
    engine = make_engine(f"postgresql://bot:{PASSWORD}@127.0.0.1:1/bot")
    try:
        with pytest.raises(StoreError, match="could not migrate") as caught:
            await migrate(engine)
    finally:
        await engine.dispose()
    assert PASSWORD not in str(caught.value)
    assert "bot:***@127.0.0.1:1/bot" in str(caught.value)


def test_describe_error_masks_the_password_a_driver_repeats():
    url = make_engine(f"postgresql://bot:{PASSWORD}@127.0.0.1/bot").url
    message = describe_error(OSError(f"cannot log in as bot with {PASSWORD}"), url)
    assert PASSWORD not in message
    assert "***" in message
    assert PASSWORD not in safe_url(url)


async def test_make_engine_creates_the_sqlite_directory_and_sets_the_pragmas(tmp_path: Path):
    path = tmp_path / "deep" / "er" / "bot.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        async with engine.connect() as conn:
            journal = await conn.scalar(text("PRAGMA journal_mode"))
            foreign_keys = await conn.scalar(text("PRAGMA foreign_keys"))
            busy = await conn.scalar(text("PRAGMA busy_timeout"))
    finally:
        await engine.dispose()
    assert path.parent.is_dir()
    assert (journal, foreign_keys) == ("wal", 1)
    assert busy > 0


async def test_a_memory_database_can_be_migrated():
    engine = make_engine("sqlite:///:memory:")
    try:
        await migrate(engine)
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    finally:
        await engine.dispose()
    assert tables >= TABLES


def _tables_and_version(conn: Connection) -> tuple[set[str], list[str]]:
    tables = {t for t in inspect(conn).get_table_names() if not outside_metadata(t)}
    versions = [row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))]
    return tables, versions


async def test_migrate_twice_is_idempotent(db_engine: AsyncEngine):
    await migrate(db_engine)  # the fixture migrated once already
    async with db_engine.connect() as conn:
        tables, versions = await conn.run_sync(_tables_and_version)
    assert tables == TABLES
    assert versions == [HEAD]


async def test_two_processes_migrating_at_once_both_succeed(database_url: str):
    engines = [make_engine(database_url) for _ in range(3)]
    try:
        await asyncio.gather(*(migrate(engine) for engine in engines))
        async with engines[0].connect() as conn:
            tables, versions = await conn.run_sync(_tables_and_version)
    finally:
        for engine in engines:
            await engine.dispose()
    assert tables == TABLES
    assert versions == [HEAD]


async def test_foreign_keys_are_enforced_again_after_migrating(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'bot.db'}")
    try:
        await migrate(engine)
        async with engine.connect() as conn:
            assert isinstance(engine.pool, QueuePool)
            assert engine.pool.checkedin() == 0  # so this is the connection the migration used
            assert await conn.scalar(text("PRAGMA foreign_keys")) == 1
    finally:
        await engine.dispose()


async def test_the_migrations_build_exactly_the_schema_the_code_declares(db_engine: AsyncEngine):
    def differences(conn: Connection) -> list[object]:
        context = MigrationContext.configure(conn, opts={"include_name": schema_object})
        return list(compare_metadata(context, metadata))

    async with db_engine.connect() as conn:
        assert await conn.run_sync(differences) == []


async def test_a_database_from_a_newer_version_is_refused_clearly(db_engine: AsyncEngine):
    async with db_engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(StoreError, match="9999"):
        await migrate(db_engine)


async def test_libpq_options_in_the_url_reach_postgresql():
    base = postgres_base_url()
    if base is None:
        pytest.skip("PostgreSQL tests need TEST_DATABASE_URL")
    sep = "&" if "?" in base else "?"
    engine = make_engine(f"{base}{sep}options=-c%20application_name%3Dbot-test&sslmode=disable")
    try:
        async with engine.connect() as conn:
            name = await conn.scalar(text("SHOW application_name"))
    finally:
        await engine.dispose()
    assert name == "bot-test"
