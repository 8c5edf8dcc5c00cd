"""Parse and format the short durations operators write: `10s`, `5m`, `1h`, `1h30m`, `2d`."""

from __future__ import annotations

import re

_PART = re.compile(r"(\d+)\s*([smhd])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> int:
    """Seconds in `text`; raises ValueError with a readable message when it is not a duration."""
    compact = text.strip().lower().replace(" ", "")
    if not compact:
        raise ValueError("empty duration; write e.g. 10s, 5m, 1h or 1h30m")
    pos, total = 0, 0
    for m in _PART.finditer(compact):
        if m.start() != pos:
            break
        total += int(m.group(1)) * _UNIT_SECONDS[m.group(2)]
        pos = m.end()
    if pos != len(compact):
        raise ValueError(f"{text!r} is not a duration; write e.g. 10s, 5m, 1h or 1h30m")
    return total


def format_duration(seconds: float) -> str:
    """The shortest exact `1h30m`-style spelling of a whole number of seconds."""
    rest = round(seconds)
    if rest == 0:
        return "0s"
    parts = []
    for unit in ("d", "h", "m", "s"):
        size = _UNIT_SECONDS[unit]
        if rest >= size:
            parts.append(f"{rest // size}{unit}")
            rest %= size
    return "".join(parts)
