"""The database: engine and Alembic migrations, table definitions, and one store per concern.

`engine` builds SQLite (WAL) or PostgreSQL engines from DATABASE_URL and migrates at start-up;
`access` is the shared transaction and error-translation helper; `tables`, `chat_tables`,
`overlay_tables` define the schema; `items` (sources, items, flags; source state in
`source_state`), `chats` and `outbox`
(subscriptions and what waits to be sent), `ops` (operator reads such as rematch) and `overlay`
(the operator edit log) are the stores; `rows` maps rows to `bot.models` values.

May import: `bot.models`, `bot.errors`, SQLAlchemy and Alembic. SQLAlchemy rows never leave this
wing: callers get `bot.models` values and `StoreError`.

Entry points: `engine.make_engine`, `engine.migrate`, `items.Store`, `chats.ChatStore`.
"""
