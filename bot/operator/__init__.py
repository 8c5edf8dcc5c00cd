"""Live configuration: the operators' edits, their log, and the tools around them.

`edits` are the edit records (pure), `live` replays the stored edit log over the files and
reloads them (`replay`: the pure replay and validation; `files`: reading and hashing the TOML
files; `compaction`: folding old edits), `cli` is `python -m bot config …`, `export` writes the effective config back to
TOML, `probe` tries a feed before it is added, `rematch` re-judges stored items, and `alerts`
tells operators about failing or silent sources and broken config files.

May import: `bot.config`, `bot.polling.pipeline` and everything below them. Never Telegram: the Telegram
commands call into this wing, not the other way round.

Entry points: `live.LiveConfig`, `cli.run`, `rematch.rematch`, `alerts.SourceAlerts`.
"""
