"""Alembic migrations of the store's schema, run by `bot.storage.engine.migrate` (no alembic.ini)."""
