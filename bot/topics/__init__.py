"""Deciding relevance: text folding, topic configuration and the matcher. Pure: no I/O at all.

`folding` turns text into comparable tokens (four languages, one alphabet per script), `config`
reads and validates topics from TOML data, `index` holds compiled terms by their first word,
`matcher` compiles topics and judges items, and
`jsonl` reads the labelled JSON Lines that `python -m bot match` takes.

May import: `bot.models`, `bot.errors`. Never httpx, SQLAlchemy, Telegram or APScheduler, nor the
other wings.

Entry points: `matcher.compile_topics`, `matcher.Matcher.match` / `.explain`, `config.load_topics`.
"""
