"""The media review: summaries of flagged items, stories across outlets, and the daily review.

Pure logic, no I/O: values in, values out; no clock (times are passed in), no network, no
database. A module here may import `bot.models`, `bot.errors`, `bot.text.markup`, `bot.text.durations`,
the pure core below it (`bot.topics` for folding and term parsing, `bot.text.formatting` for
cleaning) and the standard library; never httpx, SQLAlchemy, telegram or APScheduler (the
import-linter contracts in pyproject.toml enforce this). Storage reaches it only through
protocols that `bot.app` wires.

Entry points:
- `sentences.split_sentences(text)`: sentences of English, Russian, Azerbaijani and Persian text;
- `summary.summarize(...)`: the extractive summary of one flagged item (lead sentence plus the
  sentences that carry the matched terms, at most `limit` characters);
- `stories.Grouper`: grouping reports of one event across outlets; `jsonl.story_lines` for
  `python -m bot stories`;
- `listing` (`/latest`, `python -m bot latest`), `also` (the edited message's "Also: …"),
  `digest` (the daily review).
"""
