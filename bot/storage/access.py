"""Shared database access of the stores: dialect insert, reads, serialized writes, error mapping.

Build one `DbAccess` per engine and hand it to every store: its SQLite write lock then queues all
of the process's writers, whichever store they belong to. SQLite has one writer at a time, and
waiting here is fairer and cheaper than spinning on busy_timeout; PostgreSQL takes row locks
instead, so it gets no lock. SQLAlchemy's and the driver's errors become `StoreError` here, once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.errors import ConfigError, StoreError
from bot.storage.engine import WRITE_OPTIONS, describe_error


class DbAccess:
    """Reads, writes and dialect inserts on an injected engine (which it does not dispose)."""

    def __init__(self, engine: AsyncEngine) -> None:
        if engine.dialect.name not in ("sqlite", "postgresql"):
            raise ConfigError([f"database {engine.dialect.name!r} is not supported"])
        self.engine = engine
        self.dialect: str = engine.dialect.name
        self._writer = engine.execution_options(**WRITE_OPTIONS)
        self._write_lock = asyncio.Lock() if self.dialect == "sqlite" else None

    @classmethod
    def of(cls, db: AsyncEngine | DbAccess) -> DbAccess:
        """`db` itself, or a new access of its own for a bare engine (a store built alone)."""
        return db if isinstance(db, DbAccess) else cls(db)

    def insert(self, table: Table) -> Any:
        """The dialect's INSERT, which offers on_conflict_do_*."""
        # Typed Any: the two dialects' insert classes are unrelated.
        if self.dialect == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)

    @asynccontextmanager
    async def write(self, action: str) -> AsyncIterator[AsyncConnection]:
        """One write transaction (SQLite: BEGIN IMMEDIATE, behind the lock); committed on exit."""
        async with AsyncExitStack() as stack:
            if self._write_lock is not None:
                await stack.enter_async_context(self._write_lock)
            stack.enter_context(self.errors(action))  # entered first: also sees the COMMIT fail
            yield await stack.enter_async_context(self._writer.begin())

    @asynccontextmanager
    async def read(self, action: str) -> AsyncIterator[AsyncConnection]:
        """A connection for reading; errors become StoreError naming `action`."""
        with self.errors(action):
            async with self.engine.connect() as conn:
                yield conn

    @contextmanager
    def errors(self, action: str) -> Iterator[None]:
        """Translate SQLAlchemy's and the driver's errors into StoreError naming `action`."""
        try:
            yield
        except (SQLAlchemyError, OSError) as exc:
            raise StoreError(f"{action}: {describe_error(exc, self.engine.url)}") from exc
