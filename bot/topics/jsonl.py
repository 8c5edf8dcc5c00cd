"""`match` command's record format: JSON Lines of items in, JSON Lines of verdicts out, same order.

Titles and summaries are cleaned by `bot.text.clean.clean_title`/`clean_summary`, the functions
the pipeline's feed parser uses, so an item is matched exactly as the running bot would match it
(entities decoded, tags dropped, mojibake repaired, feed furniture removed).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from bot.text.clean import clean_summary, clean_title
from bot.text.jsonlines import BadLine, ItemLine, records
from bot.topics.matcher import Matcher


def match_lines(matcher: Matcher, lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    """One verdict per non-blank line: `{"id", "topics", "terms"}`, or `{"line", "error"}` for a
    line that is not a valid record (it is reported, and the lines after it still run)."""
    for record in records(lines, ItemLine):
        if isinstance(record, BadLine):
            yield record.as_json()
            continue
        title, summary = clean_title(record.title), clean_summary(record.summary)
        matches = matcher.match(title, summary, record.lang)
        yield {
            "id": record.id,
            "topics": [m.topic_id for m in matches],
            "terms": {m.topic_id: m.terms_by_group() for m in matches},
        }
