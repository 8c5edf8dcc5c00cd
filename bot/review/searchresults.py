"""Search results read as stories: reports of one story are shown together.

Pure. The page keeps its order (newest first, or most relevant first); each story stands where
its first report on the page stands, with its other reports on the page right after it.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

T = TypeVar("T")


def group_by_story(hits: Sequence[tuple[T, Hashable | None]]) -> list[list[T]]:
    """Hits (each with its story, None: none) in groups of one story, in page order."""
    groups: list[list[T]] = []
    where: dict[Hashable, int] = {}
    for hit, story in hits:
        if story is None:
            groups.append([hit])
            continue
        if story not in where:
            where[story] = len(groups)
            groups.append([])
        groups[where[story]].append(hit)
    return groups
