"""Database fixtures: a fresh database per test, on SQLite and (with TEST_DATABASE_URL) PostgreSQL.

- `database_url`: a DATABASE_URL string for an empty database. The "sqlite" variant is a file in
  `tmp_path`; the "postgresql" variant is a schema of its own in TEST_DATABASE_URL's database,
  chosen through libpq's `options=-csearch_path=…` (which `bot.storage.engine.make_engine` passes to
  asyncpg) and dropped afterwards. Without TEST_DATABASE_URL that variant is skipped.
- `db_engine`: an engine on `database_url`, migrated to head, disposed afterwards.
- `store`: a `Store` on `db_engine`.

tests/conftest.py registers all three for every test module.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from bot.storage.engine import async_url, make_engine, migrate
from bot.storage.items import Store

STALE_AFTER = 6 * 3600  # seconds; no test run takes this long


def postgres_base_url() -> str | None:
    """TEST_DATABASE_URL, or None when the PostgreSQL tests are not wanted."""
    return os.environ.get("TEST_DATABASE_URL") or None


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """DATABASE_URL of an empty database of its own, on each backend under test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'data' / 'bot.db'}"
        return
    base = postgres_base_url()
    if base is None:
        pytest.skip("PostgreSQL tests need TEST_DATABASE_URL")
    # The creation time in the name lets a later run drop what a killed run left behind.
    schema = f"test_{int(time.time())}_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(async_url(base), poolclass=NullPool)
    try:
        async with admin.begin() as conn:
            await _drop_stale_schemas(conn)
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        async with admin.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await admin.dispose()


async def _drop_stale_schemas(conn: AsyncConnection) -> None:
    names = await conn.scalars(
        text(r"SELECT nspname FROM pg_namespace WHERE nspname LIKE 'test\_%'")
    )
    cutoff = time.time() - STALE_AFTER
    for name in names.all():
        created = name.split("_")[1]
        if created.isdigit() and int(created) < cutoff:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))


@pytest.fixture(name="db_engine")
async def db_engine_fixture(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a fresh database, migrated to the newest schema."""
    engine = make_engine(database_url)
    try:
        await migrate(engine)
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture(name="other_engine")
async def other_engine_fixture(
    database_url: str, db_engine: AsyncEngine
) -> AsyncIterator[AsyncEngine]:
    """A second engine on the same migrated database: another process's connection pool."""
    engine = make_engine(database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture(name="store")
def store_fixture(db_engine: AsyncEngine) -> Store:
    """A store on a fresh, migrated database."""
    return Store(db_engine)
