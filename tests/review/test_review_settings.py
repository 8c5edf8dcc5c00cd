"""BOT_STORY_WINDOW and BOT_DIGEST_TIME: defaults, the duration and time syntax, bounds."""

from __future__ import annotations

import pytest

from bot.config import load_settings
from bot.errors import ConfigError


def test_defaults() -> None:
    settings = load_settings({})
    assert settings.story_window == 48 * 3600
    assert settings.digest_time == (9, 0)


def test_values_in_the_usual_syntax() -> None:
    settings = load_settings({"BOT_STORY_WINDOW": "1d12h", "BOT_DIGEST_TIME": "7:30"})
    assert settings.story_window == 36 * 3600
    assert settings.digest_time == (7, 30)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BOT_STORY_WINDOW", "30m"),
        ("BOT_STORY_WINDOW", "15d"),
        ("BOT_STORY_WINDOW", "soon"),
        ("BOT_DIGEST_TIME", "24:00"),
        ("BOT_DIGEST_TIME", "9am"),
    ],
)
def test_bad_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({name: value})
    assert any(problem.startswith(f"environment: {name}:") for problem in caught.value.problems)
