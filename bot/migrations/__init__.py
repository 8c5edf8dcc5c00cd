"""Alembic migrations of the store's schema, run by `bot.database.migrate` (no alembic.ini)."""
