"""Cross-script name keys."""

from __future__ import annotations

import pytest

from bot.review.names import name_key
from bot.topics.folding import normalize


@pytest.mark.parametrize(
    ("spellings", "key"),
    [
        (["Zafarghandi", "Зафарганди", "Zəfərqəndi", "ظفرقندی"], "zfrgnd"),
        (["Anzali", "Энзели", "انزلی"], "nzl"),
        (["Ardabil", "Ардебил", "Ərdəbil", "اردبیل"], "rdbl"),
        (["Mustafayev", "Мустафаев", "مصطفایف"], "mstf"),
        (["Mirzoyan", "Мирзоян", "میرزویان"], "mrzn"),
    ],
)
def test_one_name_one_key_in_every_script(spellings: list[str], key: str) -> None:
    assert {name_key(normalize(s)) for s in spellings} == {key}


def test_other_names_other_keys() -> None:
    assert name_key("tabriz") != name_key("tehran")
