"""Settings from the environment and the outlet list from `sources.toml`.

`bot.cli` loads it once and `bot.app` builds every part from it; below them only the operator
wing imports it. The rules of one source entry are `bot.feeds.sources` (they serve operator
edits too). Every problem found is collected, so a bad config fails once with a
`ConfigError` that lists them all, each with its file, entry and field.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.errors import ConfigError
from bot.feeds.sources import load_sources
from bot.models import Source, Topic
from bot.text.durations import parse_duration
from bot.text.problems import plain_message
from bot.topics.config import load_topics


class Settings(BaseSettings):
    """Environment settings: the platform's own names as they are, ours with the `BOT_` prefix."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    telegram_bot_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("TELEGRAM_BOT_TOKEN")
    )
    telegram_api_base_url: str = Field(
        default="https://api.telegram.org/bot",
        validation_alias=AliasChoices("TELEGRAM_API_BASE_URL"),
    )
    database_url: str = Field(
        default="sqlite:///data/bot.db", validation_alias=AliasChoices("DATABASE_URL")
    )
    port: int | None = Field(default=None, ge=1, le=65535, validation_alias=AliasChoices("PORT"))
    config_dir: Path = Field(
        default=Path("config"), validation_alias=AliasChoices("BOT_CONFIG_DIR")
    )
    admin_ids: Annotated[tuple[int, ...], NoDecode] = Field(
        default=(), validation_alias=AliasChoices("BOT_ADMIN_IDS")
    )
    timezone: Annotated[ZoneInfo, NoDecode] = Field(
        default=ZoneInfo("Asia/Baku"), validation_alias=AliasChoices("BOT_TIMEZONE")
    )
    log_level: str = Field(default="INFO", validation_alias=AliasChoices("BOT_LOG_LEVEL"))
    max_body_bytes: int = Field(
        default=5_000_000,
        ge=10_000,
        le=100_000_000,
        validation_alias=AliasChoices("BOT_MAX_BODY_BYTES"),
    )
    fetch_timeout: float = Field(
        default=20.0, gt=0, le=300, validation_alias=AliasChoices("BOT_FETCH_TIMEOUT")
    )
    fetch_concurrency: int = Field(
        default=20, ge=1, le=500, validation_alias=AliasChoices("BOT_FETCH_CONCURRENCY")
    )
    fetch_per_host: int = Field(
        default=2, ge=1, le=50, validation_alias=AliasChoices("BOT_FETCH_PER_HOST")
    )
    max_backoff: Annotated[int, NoDecode] = Field(
        default=3600, validation_alias=AliasChoices("BOT_MAX_BACKOFF")
    )
    alert_failures: int = Field(
        default=5, ge=1, le=1000, validation_alias=AliasChoices("BOT_ALERT_FAILURES")
    )
    alert_silence: Annotated[int, NoDecode] = Field(
        default=48 * 3600, validation_alias=AliasChoices("BOT_ALERT_SILENCE")
    )
    webhook_url: str | None = Field(default=None, validation_alias=AliasChoices("BOT_WEBHOOK_URL"))
    link_previews: bool = Field(default=False, validation_alias=AliasChoices("BOT_LINK_PREVIEWS"))
    summary_chars: int = Field(
        default=300, ge=40, le=3000, validation_alias=AliasChoices("BOT_SUMMARY_CHARS")
    )
    # Article links may point at loopback/private addresses only when this is set (tests, intranets).
    allow_private_urls: bool = Field(
        default=False, validation_alias=AliasChoices("BOT_ALLOW_PRIVATE_URLS")
    )
    # HTTP server (health, metrics, Atom, status page, WebSub callbacks); unset: none. 0: any port.
    http_port: int | None = Field(
        default=None, ge=0, le=65535, validation_alias=AliasChoices("BOT_HTTP_PORT")
    )
    http_host: str = Field(
        default="127.0.0.1", min_length=1, validation_alias=AliasChoices("BOT_HTTP_HOST")
    )
    public_url: str | None = Field(default=None, validation_alias=AliasChoices("BOT_PUBLIC_URL"))
    # Retention: unflagged items older than this go (0 keeps everything); flagged ones only when
    # the second is set. Days, counted from when the bot first saw the item.
    keep_days: int = Field(
        default=180, ge=0, le=36500, validation_alias=AliasChoices("BOT_KEEP_DAYS")
    )
    keep_flagged_days: int | None = Field(
        default=None, ge=1, le=36500, validation_alias=AliasChoices("BOT_KEEP_FLAGGED_DAYS")
    )
    # Personal alerts (issue 21): saved searches a chat may keep.
    max_alerts_per_chat: int = Field(
        default=20, ge=1, le=1000, validation_alias=AliasChoices("BOT_MAX_ALERTS_PER_CHAT")
    )
    # Relevance buttons (bot.telegram.feedback): on or off in chats without their own setting
    # (operators' private chats have them on); labels' own retention (None: kept for ever).
    feedback_default: bool = Field(
        default=False, validation_alias=AliasChoices("BOT_FEEDBACK_DEFAULT")
    )
    keep_labels_days: int | None = Field(
        default=None, ge=1, le=36500, validation_alias=AliasChoices("BOT_KEEP_LABELS_DAYS")
    )
    story_window: Annotated[int, NoDecode] = Field(
        default=48 * 3600, validation_alias=AliasChoices("BOT_STORY_WINDOW")
    )
    digest_time: Annotated[tuple[int, int], NoDecode] = Field(
        default=(9, 0), validation_alias=AliasChoices("BOT_DIGEST_TIME")
    )
    # Several processes on one PostgreSQL (bot.storage.leases, bot.telegram.leader).
    leader_lease: Annotated[int, NoDecode] = Field(
        default=30, validation_alias=AliasChoices("BOT_LEADER_LEASE")
    )
    claim_ttl: Annotated[int, NoDecode] = Field(
        default=30, validation_alias=AliasChoices("BOT_CLAIM_TTL")
    )

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: Any) -> Any:
        if isinstance(value, str):
            parts = [part for part in re.split(r"[\s,;]+", value.strip()) if part]
            # One problem naming every bad part, rather than pydantic's line per part.
            bad = [p for p in parts if not re.fullmatch(r"-?\d{1,20}", p)]
            if bad:
                raise ValueError(
                    f"not a Telegram user id: {', '.join(repr(p) for p in bad)} (write numeric "
                    "ids separated by commas, e.g. 12345,67890)"
                )
            return tuple(int(p) for p in parts)
        return value

    @field_validator("timezone", mode="before")
    @classmethod
    def _zone(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return ZoneInfo(value.strip())
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(
                    f"unknown time zone {value!r}; use an IANA name such as Asia/Baku"
                ) from exc
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _level(cls, value: Any) -> Any:
        level = str(value).strip().upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("use one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @field_validator("alert_silence", mode="before")
    @classmethod
    def _silence(cls, value: Any) -> Any:
        seconds = parse_duration(value) if isinstance(value, str) else int(value)
        if not 3600 <= seconds <= 90 * 86400:
            raise ValueError("must be between 1h and 90d")
        return seconds

    @field_validator("story_window", mode="before")
    @classmethod
    def _story_window(cls, value: Any) -> Any:
        seconds = parse_duration(value) if isinstance(value, str) else int(value)
        if not 3600 <= seconds <= 14 * 86400:
            raise ValueError("must be between 1h and 14d")
        return seconds

    @field_validator("digest_time", mode="before")
    @classmethod
    def _digest_time(cls, value: Any) -> Any:
        if isinstance(value, str):
            m = re.fullmatch(r"\s*([01]?\d|2[0-3]):([0-5]\d)\s*", value)
            if m is None:
                raise ValueError(f"{value!r} is not a time of day; write e.g. 09:00")
            return (int(m.group(1)), int(m.group(2)))
        return value

    @field_validator("max_backoff", mode="before")
    @classmethod
    def _backoff(cls, value: Any) -> Any:
        seconds = parse_duration(value) if isinstance(value, str) else int(value)
        if not 60 <= seconds <= 7 * 86400:
            raise ValueError("must be between 1m and 7d")
        return seconds

    @field_validator("leader_lease", "claim_ttl", mode="before")
    @classmethod
    def _lease(cls, value: Any) -> Any:
        bare = isinstance(value, str) and value.strip().isdigit()  # plain seconds
        seconds = parse_duration(value) if isinstance(value, str) and not bare else int(value)
        if not 2 <= seconds <= 3600:
            raise ValueError("must be between 2s and 1h")
        return seconds

    @field_validator("database_url")
    @classmethod
    def _database(cls, value: str) -> str:
        if value.split(":", 1)[0].split("+", 1)[0] not in {"sqlite", "postgresql", "postgres"}:
            raise ValueError("use sqlite:///PATH or postgresql://USER@HOST/DB")
        return value

    @field_validator("telegram_api_base_url", "webhook_url", "public_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("must be an http:// or https:// URL")
        return value


_ENV_NAMES: dict[str, str] = {
    name: str(field.validation_alias.choices[0])
    if isinstance(field.validation_alias, AliasChoices)
    else name
    for name, field in Settings.model_fields.items()
}


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from `environ` (the process environment when None); ConfigError lists every problem."""
    try:
        if environ is None:
            return Settings()
        # Settings reads os.environ itself; an explicit mapping is passed by its aliases instead.
        known = {env: environ[env] for env in _ENV_NAMES.values() if env in environ}
        return Settings.model_validate(known)
    except ValidationError as exc:
        raise ConfigError(
            [
                f"environment: {_ENV_NAMES.get(str(err['loc'][0]), err['loc'][0])}: {plain_message(err)}"
                for err in exc.errors()
            ]
        ) from exc


def _hint_config_dir(problems: list[str], config_dir: Path, set_: bool) -> list[str]:
    """A missing file's problem, told where the folder was looked for and how to change it."""
    hinted = []
    for problem in problems:
        if problem.endswith(": file not found"):
            where = config_dir.resolve()
            how = (
                f"BOT_CONFIG_DIR is {str(config_dir)!r}"
                if set_
                else f"BOT_CONFIG_DIR is not set, so {where} (./config of the current folder)"
            )
            problem += f" ({how}; set BOT_CONFIG_DIR to the folder holding sources.toml)"
        hinted.append(problem)
    return hinted


@dataclass(frozen=True, slots=True)
class Config:
    """Everything the bot runs on: environment settings, outlets and topics."""

    settings: Settings
    sources: tuple[Source, ...]
    topics: tuple[Topic, ...]


def load_config(environ: Mapping[str, str] | None = None) -> Config:
    """Settings, sources.toml and topics.toml together; one ConfigError lists every problem in all three."""
    problems: list[str] = []
    settings: Settings | None = None
    try:
        settings = load_settings(environ)
        config_dir = settings.config_dir
    except ConfigError as exc:
        problems += exc.problems
        env = os.environ if environ is None else environ
        config_dir = Path(env.get("BOT_CONFIG_DIR", "config"))
    sources: tuple[Source, ...] = ()
    topics: tuple[Topic, ...] = ()
    env = os.environ if environ is None else environ
    try:
        sources = load_sources(config_dir / "sources.toml")
    except ConfigError as exc:
        problems += _hint_config_dir(list(exc.problems), config_dir, "BOT_CONFIG_DIR" in env)
    try:
        topics = load_topics(config_dir / "topics.toml")
    except ConfigError as exc:
        problems += _hint_config_dir(list(exc.problems), config_dir, "BOT_CONFIG_DIR" in env)
    if problems or settings is None:
        raise ConfigError(problems)
    return Config(settings=settings, sources=sources, topics=topics)
