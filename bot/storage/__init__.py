"""The database: engine and Alembic migrations, table definitions, and one store per concern.

`engine` builds SQLite (WAL) or PostgreSQL engines from DATABASE_URL and migrates at start-up;
`access` is the shared transaction and error-translation helper; `tables`, `chat_tables`,
`overlay_tables` define the schema. One store class per job, each taking the shared access, none
inheriting from another: `items.Store` (sources, items, their matches), `source_state.SourceStates`
(the sources' polling state), `chats.ChatStore` (subscriptions and modes), `outbox.Outbox` (filling
and reading the outbox), `outbox_sends.OutboxSends` (claiming and settling sends),
`outbox_edits.OutboxEdits` (a story's message edits), `chat_failures.ChatFailures`,
`review_claims.ReviewClaims` (the daily review, once per chat and day), `stories`, `leases`,
`retention`, `websub`, `status`, `ops` (operator reads such as rematch) and `overlay` (the operator
edit log); `delivery.DeliveryStores` groups the delivery worker's. `rows` maps rows to
`bot.models` values.

May import: `bot.models`, `bot.errors`, SQLAlchemy and Alembic. SQLAlchemy rows never leave this
wing: callers get `bot.models` values and `StoreError`.

Entry points: `engine.open_engine`, `items.Store`, `chats.ChatStore`, `outbox.Outbox`.
"""
