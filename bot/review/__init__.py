"""The media review: summaries of flagged items (and, alongside, stories and digests).

Pure logic, no I/O: values in, values out; no clock, no network, no database. A module here may
import `bot.models`, `bot.errors`, the pure core below it (`bot.topics` for folding and term
parsing, `bot.formatting` for cleaning) and the standard library; never httpx, SQLAlchemy,
telegram or APScheduler (the import-linter contracts in pyproject.toml enforce this).

Entry points:
- `bot.review.sentences.split_sentences(text)`: sentences of English, Russian, Azerbaijani
  and Persian text;
- `bot.review.summary.summarize(...)`: the extractive summary of one flagged item, at most
  `limit` characters (the lead sentence plus the sentences that carry the matched terms).
"""
