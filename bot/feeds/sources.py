"""A source's entry in `sources.toml`, validated into a `Source`: the same rules serve the files
(`bot.config`) and operator edits (`bot.operator.replay`). Every problem is collected, so a bad
file fails once with a `ConfigError` that lists them all, each with its entry and field.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.errors import ConfigError
from bot.feeds.listing import selectors_of
from bot.models import Source
from bot.text.durations import parse_duration
from bot.text.problems import duplicates, entry_name, location, plain_message

MIN_INTERVAL = 10  # seconds; faster polling is rude to outlets and gains nothing
DEFAULT_INTERVAL = 600  # seconds, when neither the entry nor [defaults] gives one
SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")


class _SourceEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str
    name: str = Field(min_length=1, max_length=200)
    url: str
    interval: int = DEFAULT_INTERVAL
    language: str | None = None
    enabled: bool = True
    user_agent: str | None = Field(default=None, min_length=1, max_length=300)
    fetch_article: Literal["never", "short", "always"] = "short"
    type: Literal["feed", "telegram", "html", "sitemap"] = "feed"
    selectors: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _selectors(self) -> _SourceEntry:
        selectors_of(self.type, self.selectors)  # ValueError naming the field
        return self

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SLUG.match(value):
            raise ValueError("must be a slug: lowercase letters, digits, - and _ (at most 64)")
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/?#]+[^\s]*$", value):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("interval", mode="before")
    @classmethod
    def _interval(cls, value: Any) -> int:
        if not isinstance(value, str):
            raise ValueError("write it as a string such as '10m'")  # noqa: TRY004 (pydantic wants ValueError)
        seconds = parse_duration(value)
        if seconds < MIN_INTERVAL:
            raise ValueError(f"must be at least {MIN_INTERVAL}s")
        return seconds

    @field_validator("language")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        if value is not None and not LANGUAGE.match(value):
            raise ValueError("must be a language code such as en, ru, az or fa")
        return value


def sources_from_data(data: Mapping[str, Any], origin: str) -> tuple[Source, ...]:
    """Validated sources from parsed TOML; the same rules serve files and operator edits."""
    problems: list[str] = []
    defaults = data.get("defaults", {})
    if not isinstance(defaults, Mapping):
        problems.append(f"{origin}: defaults: must be a table")
        defaults = {}
    unknown = set(data) - {"defaults", "sources"}
    problems += [
        f"{origin}: {key}: unknown key (expected [defaults] and [[sources]])"
        for key in sorted(unknown)
    ]
    entries = data.get("sources", [])
    if not isinstance(entries, list):
        raise ConfigError([f"{origin}: sources: must be an array of tables ([[sources]])"])
    sources: list[Source] = []
    problems += duplicates(entries, defaults, origin)
    for index, raw in enumerate(entries):
        where = f"{origin}: {entry_name(raw, index)}"
        if not isinstance(raw, Mapping):
            problems.append(f"{where}: must be a table ([[sources]])")
            continue
        try:
            entry = _SourceEntry.model_validate({**defaults, **raw})
        except ValidationError as exc:
            problems += [f"{where}: {location(err)}: {plain_message(err)}" for err in exc.errors()]
            continue
        sources.append(
            Source(
                id=entry.id,
                name=entry.name,
                url=entry.url,
                interval=float(entry.interval),
                language=entry.language,
                enabled=entry.enabled,
                user_agent=entry.user_agent,
                fetch_article=entry.fetch_article,
                kind=entry.type,
                selectors=selectors_of(entry.type, entry.selectors),
            )
        )
    if problems:
        raise ConfigError(problems)
    return tuple(sources)


def read_toml(path: Path) -> dict[str, Any]:
    """Parsed TOML; a missing or malformed file is a ConfigError naming the file and line."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ConfigError([f"{path}: file not found"]) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: TOML syntax error: {exc}"]) from exc
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror}"]) from exc


def load_sources(path: Path) -> tuple[Source, ...]:
    """Sources from a sources.toml file."""
    return sources_from_data(read_toml(path), str(path))
