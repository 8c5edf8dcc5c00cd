"""Alembic environment: runs the migrations on the connection `bot.storage.engine.migrate` hands over.

Without one (alembic's command line, `alembic_config(url)`), it opens its own engine from
`sqlalchemy.url`. It never configures logging: only the command line does.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection

import bot.storage.chat_tables
import bot.storage.label_tables
import bot.storage.overlay_tables
import bot.storage.retention_tables
import bot.storage.review_tables
import bot.storage.search_tables
import bot.storage.story_tables
import bot.storage.websub_tables  # noqa: F401  (their tables join the shared metadata on import)
from bot.storage.engine import WRITE_OPTIONS, make_engine
from bot.storage.search_tables import schema_object
from bot.storage.tables import metadata


def _run(connection: Connection) -> None:
    # render_as_batch: SQLite alters tables by copying them; autogenerate should plan for it.
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,
        include_name=schema_object,  # the FTS5/tsvector index is not SQLAlchemy metadata
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_offline() -> None:
    context.configure(
        url=context.config.get_main_option("sqlalchemy.url"),
        target_metadata=metadata,
        render_as_batch=True,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_url(url: str) -> None:
    engine = make_engine(url)
    try:
        async with engine.execution_options(**WRITE_OPTIONS).begin() as conn:
            await conn.run_sync(_run)
    finally:
        await engine.dispose()


def _main() -> None:
    if context.is_offline_mode():
        _run_offline()
        return
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError(
            "no connection and no sqlalchemy.url: use bot.storage.engine.alembic_config(url)"
        )
    asyncio.run(_run_with_url(url))


_main()
