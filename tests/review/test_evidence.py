"""What grouping compares of an item: the script its letters are written in."""

from __future__ import annotations

import pytest

from bot.review.evidence import script_of


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Iran summons Azerbaijani envoy", "latin"),
        ("İran və Azərbaycan", "latin"),  # İ and ə are letters too; most are Latin
        ("Пезешкиан посетил Пекин", "cyrillic"),
        ("سفر وزیر فرهنگ به باکو", "arabic"),
        ("ﭐﭑﭒ ab", "arabic"),  # Arabic presentation forms count as Arabic
        ("日本語 ab", "other"),
        ("əəə ab", "other"),  # ə stands past the Latin blocks the count covers
        ("ааааа abc", "cyrillic"),  # every occurrence counts, not each distinct letter once
        ("абв abcd", "latin"),
        ("аб ab", "latin"),  # a tie goes to Latin, then Cyrillic, then Arabic
        ("аб اب", "cyrillic"),
        ("Алиев 2026 ² ½ e\u0301", "cyrillic"),  # digits, numerals and marks are not letters
        ("123 !? 2026", "latin"),  # no letters at all
        ("", "latin"),
    ],
)
def test_script_is_that_of_most_letters(text: str, expected: str) -> None:
    assert script_of(text) == expected
