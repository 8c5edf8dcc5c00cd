"""Reading the config files in BOT_CONFIG_DIR: their parsed TOML and a hash of their content.

`read_files` parses sources.toml and topics.toml (one ConfigError lists every unreadable or
malformed file); `digest` hashes the raw content so `LiveConfig.watch` can tell when it changed,
a missing or unreadable file included.
"""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path
from typing import Any

from bot.errors import ConfigError
from bot.operator.edits import ConfigData

SOURCES_FILE, TOPICS_FILE = "sources.toml", "topics.toml"


def read_files(config_dir: Path) -> tuple[ConfigData, str]:
    """Both files parsed, and the hash of their content; ConfigError lists every problem."""
    raw = [_read_bytes(config_dir / name) for name in (SOURCES_FILE, TOPICS_FILE)]
    problems: list[str] = []
    parsed: list[dict[str, Any]] = []
    for name, body in zip((SOURCES_FILE, TOPICS_FILE), raw, strict=True):
        path = config_dir / name
        if isinstance(body, str):
            problems.append(f"{path}: {body}")
            continue
        try:
            parsed.append(tomllib.loads(body.decode("utf-8")))
        except UnicodeDecodeError as exc:
            problems.append(f"{path}: not UTF-8: {exc.reason} at byte {exc.start}")
        except tomllib.TOMLDecodeError as exc:
            problems.append(f"{path}: TOML syntax error: {exc}")
    if problems:
        raise ConfigError(problems)
    return ConfigData(sources=parsed[0], topics=parsed[1]), _hash(raw)


def digest(config_dir: Path) -> str:
    """The hash `read_files` would give for the files as they are now; never raises."""
    return _hash([_read_bytes(config_dir / name) for name in (SOURCES_FILE, TOPICS_FILE)])


def _read_bytes(path: Path) -> bytes | str:
    """The file's bytes, or why it cannot be read."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return "file not found"
    except OSError as exc:
        return f"cannot read: {exc.strerror or exc}"


def _hash(raw: list[bytes | str]) -> str:
    h = hashlib.sha256()
    for body in raw:
        h.update(body if isinstance(body, bytes) else b"\0" + body.encode())
        h.update(b"\0\0")
    return h.hexdigest()
