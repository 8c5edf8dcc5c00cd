"""Whether a source is polled, paused or disabled: one rule for the status page, `/metrics` and
`/healthz`.

- "active": polled (in the config and enabled);
- "paused": in the config with `enabled = false` (an operator's `/pause`, or the file says so);
- "disabled": kept in the database after it left the config (its stored items keep its name).

Pure: it reads the live config's sources and the database's rows as values.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from bot.models import Source
from bot.storage.status import SourceHealth

ACTIVE = "active"
PAUSED = "paused"
DISABLED = "disabled"
STATES = (ACTIVE, PAUSED, DISABLED)


def configured(sources: Iterable[Source]) -> dict[str, bool]:
    """Source id → enabled, for the sources the live config holds."""
    return {s.id: s.enabled for s in sources}


def state_of(source: SourceHealth, config: Mapping[str, bool]) -> str:
    """The source's state; a row the config does not name falls back to its stored flag."""
    enabled = config.get(source.id)
    if enabled is None:
        return ACTIVE if source.enabled else DISABLED
    return ACTIVE if enabled else PAUSED


def count_states(sources: Sequence[SourceHealth], config: Mapping[str, bool]) -> dict[str, int]:
    """How many sources are in each state (every state named, zero included)."""
    counts = Counter(state_of(s, config) for s in sources)
    return {state: counts.get(state, 0) for state in STATES}
