"""Row ↔ record mapping of items and topic matches, shared by the stores.

SQLAlchemy rows of `items` and `item_topics` become `Item` and `TopicMatch` here (and matches
become `item_topics` values); the stores use these and never hand a row to their callers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row

from bot.models import Item, StoredItem, TermHit, TopicMatch


def item_from_row(row: Row[Any]) -> Item:
    """The `Item` of an `items` row (extra columns are ignored)."""
    return Item(
        source_id=row.source_id,
        key=row.key,
        url=row.url,
        title=row.title,
        summary=row.summary,
        published=row.published,
        language=row.language,
        guid=row.guid,
    )


def review_summary(row: Row[Any]) -> str | None:
    """The `review_summary` of an `items` row (None when the row lacks the column)."""
    value = row._mapping.get("review_summary")
    return str(value) if value is not None else None


def match_from_row(row: Row[Any]) -> TopicMatch:
    """The `TopicMatch` of an `item_topics` row, its explanation's hits included."""
    hits = (row.explanation or {}).get("hits", [])
    return TopicMatch(
        topic_id=row.topic_id,
        hits=tuple(
            TermHit(
                group=h.get("group", ""),
                term=h.get("term", ""),
                field=h.get("field", ""),
                text=h.get("text", ""),
            )
            for h in hits
        ),
    )


def match_values(item_id: int, match: TopicMatch, now: datetime) -> dict[str, Any]:
    """The `item_topics` values of one match of item `item_id`, matched at `now`."""
    hits = [
        {"group": h.group, "term": h.term, "field": h.field, "text": h.text} for h in match.hits
    ]
    return {
        "item_id": item_id,
        "topic_id": match.topic_id,
        "explanation": {"hits": hits},
        "matched_at": now,
    }


def stored_items(rows: Sequence[Row[Any]], match_rows: Sequence[Row[Any]]) -> list[StoredItem]:
    """`StoredItem`s of `items` rows (with a `source_name` column) and their `item_topics` rows,
    in the rows' order, each item's matches ordered by topic id."""
    by_item: dict[int, list[TopicMatch]] = {}
    for m in match_rows:
        by_item.setdefault(m.item_id, []).append(match_from_row(m))
    return [
        StoredItem(
            id=r.id,
            item=item_from_row(r),
            source_name=r.source_name,
            first_seen=r.first_seen,
            matches=tuple(sorted(by_item.get(r.id, ()), key=lambda m: m.topic_id)),
            review_summary=review_summary(r),
        )
        for r in rows
    ]
