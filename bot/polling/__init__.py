"""One poll of a source and its schedule.

`pipeline` polls a source (fetch, parse, match, summarize, store, announce) and passes over many;
`summaries` gives new flagged items their review summary; `scheduler` decides when each source
is polled (APScheduler, claims between processes).

May import `bot.feeds`, `bot.storage`, `bot.topics`, `bot.review`, `bot.messengers` and the pure
core; never Telegram, the web wing, the operator wing or `bot.config`.

Entry points: `pipeline.Pipeline.run_source`, `scheduler.SourceScheduler`.
"""
