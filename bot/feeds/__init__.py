"""Getting items from outlets: fetch, parse, and turn feed entries into clean `Item`s.

Conditional GETs with size and time limits (`fetch`) over httpx on plain asyncio connections
(`transport`, `netstream`: httpcore's pool without anyio), feedparser on bytes with hostile-feed bounds
(`parse`, `safety`), cp1251 repair (`charset`) and the pure text and identity rules (`normalize`).

May import: `bot.models`, `bot.errors` and the libraries httpx, httpcore and feedparser. Never the database,
Telegram, or the topic filter (`bot.topics`): an import-linter contract keeps feeds, topics and
storage independent.

Entry points: `fetch.make_client`, `fetch.Fetcher.fetch`, `parse.parse_feed`.
"""
