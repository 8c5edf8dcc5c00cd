"""An edit's before and after as one line of what differs: shared by `config audit`/`config undo`
and Telegram's /audit, so both show a term list change as `+'term' -'term'`.

Pure: values in, a line out.
"""

from __future__ import annotations

from typing import Any


def change(before: Any, after: Any) -> str:
    """Before and after on one line: the fields or terms that differ ("interval: 10m → 5m")."""
    if isinstance(before, list) and isinstance(after, list):
        added = [repr(t) for t in after if t not in before]
        removed = [repr(t) for t in before if t not in after]
        parts = [f"+{t}" for t in added] + [f"-{t}" for t in removed]
        return f"{len(before)} → {len(after)} terms: {' '.join(parts) or 'no change'}"
    if isinstance(before, dict) and isinstance(after, dict):
        keys = [k for k in {**before, **after} if before.get(k) != after.get(k)]
        return "; ".join(f"{k}: {before.get(k)!r} → {after.get(k)!r}" for k in keys) or "no change"
    return f"{_one(before)} → {_one(after)}"


def _one(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={v!r}" for k, v in value.items()) + "}"
    return repr(value)
