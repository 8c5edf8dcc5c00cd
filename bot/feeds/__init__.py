"""Getting items from outlets: fetch, parse, and turn feed entries into clean `Item`s.

Conditional GETs with size and time limits (`fetch`) over httpx on plain asyncio connections
(`transport`, `netstream`: httpcore's pool without anyio), feedparser on bytes with hostile-feed bounds
(`parse`, `safety`), cp1251 repair (`charset`) and the pure text and identity rules (`normalize`).
Outlets without a feed, each parsed into the same keyed feed (`kinds.read_source` picks by the
source's type): Telegram channel previews (`channel`), listing pages read with CSS selectors
(`listing`), news sitemaps (`sitemap`), JSON Feed (`jsonfeed`); pages parsed within bounds
(`htmldoc`), page dates (`dates`), and what a URL serves (`detect`). A source's entry in
`sources.toml`, validated into a `Source` (`sources`).

May import: `bot.models`, `bot.errors`, `bot.text` and the libraries httpx, httpcore, feedparser, lxml and
cssselect. Never the database, Telegram, or the topic filter (`bot.topics`): an import-linter
contract keeps feeds, topics and storage independent.

Entry points: `fetch.make_client`, `fetch.Fetcher.fetch`, `kinds.read_source`, `parse.parse_feed`,
`detect.detect`.
"""
