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


def match_lines(
    matcher: Matcher, lines: Iterable[str], *, explain: bool = False
) -> Iterator[dict[str, Any]]:
    """One verdict per non-blank line: `{"id", "topics", "terms"}`, or `{"line", "error"}` for a
    line that is not a valid record (it is reported, and the lines after it still run). With
    `explain`, each verdict also has `"explain"`: per topic, the lines of `Matcher.explain`
    (hits, masks, vetoes, kind vetoes, each state's role), as `/testmatch` shows them; the
    verdict itself is still `Matcher.match`'s, the pipeline's."""
    for record in records(lines, ItemLine):
        if isinstance(record, BadLine):
            yield record.as_json()
            continue
        title, summary = clean_title(record.title), clean_summary(record.summary)
        matches = matcher.match(title, summary, record.lang)
        verdict: dict[str, Any] = {
            "id": record.id,
            "topics": [m.topic_id for m in matches],
            "terms": {m.topic_id: m.terms_by_group() for m in matches},
        }
        if explain:
            verdict["explain"] = {
                e.topic_id: list(e.lines()) for e in matcher.explain(title, summary, record.lang)
            }
        yield verdict
