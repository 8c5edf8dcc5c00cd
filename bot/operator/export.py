"""Writing the effective config back as TOML that keeps the originals' comments (tomlkit).

`render` parses an original file with tomlkit and changes only what differs from the target data:
entries of `[[sources]]` and `[[topics]]` are matched by id, tables key by key, and term arrays item
by item, so every comment stays next to what it described (a comment on the same line as a removed
term or key goes with it). New entries and terms are appended at the end of their array. The result
is ready to be committed in place of the original, after which the stored edits replay as no-ops.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.items import AoT, Array, Item, Table
from tomlkit.toml_document import TOMLDocument

from bot.operator.edits import ConfigData

SOURCES_FILE, TOPICS_FILE = "sources.toml", "topics.toml"


def render(original: str, target: Mapping[str, Any]) -> str:
    """`original` (TOML text) changed to hold exactly `target`, keeping its comments and layout."""
    doc = tomlkit.parse(original)
    _sync_table(doc, target)
    return tomlkit.dumps(doc)


def plain(data: Mapping[str, Any]) -> str:
    """`data` as TOML without comments (for `config show`)."""
    return tomlkit.dumps(dict(data))


def export_config(config_dir: Path, data: ConfigData, to: Path) -> list[Path]:
    """Write sources.toml and topics.toml for `data` into `to`, commented like those in `config_dir`."""
    to.mkdir(parents=True, exist_ok=True)
    return [_write_atomic(to / name, text) for name, text in render_all(config_dir, data).items()]


def render_all(config_dir: Path, data: ConfigData) -> dict[str, str]:
    """File name → the text `export_config` would write."""
    out = {}
    for name, target in ((SOURCES_FILE, data.sources), (TOPICS_FILE, data.topics)):
        original = config_dir / name
        text = original.read_text(encoding="utf-8") if original.exists() else ""
        out[name] = render(text, target)
    return out


def _write_atomic(path: Path, text: str) -> Path:
    # A reader (the bot's file watch) sees the old file or the new one, never half of one.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _unwrap(value: Any) -> Any:
    return value.unwrap() if isinstance(value, Item | TOMLDocument) else value


def _sync_table(table: TOMLDocument | Table, target: Mapping[str, Any]) -> None:
    for key in [k for k in table if k not in target]:
        del table[key]
    for key, wanted in target.items():
        if key not in table:
            table[key] = wanted
            continue
        current = table[key]
        if _unwrap(current) == wanted:
            continue
        if isinstance(current, Table) and isinstance(wanted, Mapping):
            _sync_table(current, wanted)
        elif isinstance(current, AoT) and _by_id(wanted) is not None:
            _sync_entries(current, wanted)
        elif isinstance(current, Array) and isinstance(wanted, list):
            _sync_array(current, wanted)
        else:
            table[key] = wanted


def _by_id(entries: Any) -> dict[str, Mapping[str, Any]] | None:
    """Entries keyed by their `id`, or None when they are not tables that all have one."""
    if not isinstance(entries, list):
        return None
    out = {e["id"]: e for e in entries if isinstance(e, Mapping) and isinstance(e.get("id"), str)}
    return out if len(out) == len(entries) else None


def _sync_entries(aot: AoT, wanted: list[Mapping[str, Any]]) -> None:
    by_id = _by_id(wanted) or {}
    for index in reversed(range(len(aot))):
        if aot[index].get("id") not in by_id:
            del aot[index]
    present = {str(t.get("id")): t for t in aot}
    for entry_id, entry in by_id.items():
        if entry_id in present:
            _sync_table(present[entry_id], entry)
        else:
            aot.append(tomlkit.item(dict(entry)))
    if [t.get("id") for t in aot] != list(by_id):
        # Only reached when the order itself changed, which no edit does.
        aot.clear()
        for entry in wanted:
            aot.append(tomlkit.item(dict(entry)))


def _sync_array(array: Array, wanted: list[Any]) -> None:
    for index in reversed(range(len(array))):
        if _unwrap(array[index]) not in wanted:
            del array[index]
    have = [_unwrap(v) for v in array]
    for value in wanted:
        if value not in have:
            array.append(value)
    if [_unwrap(v) for v in array] != wanted:
        array.clear()
        array.extend(wanted)
