"""Sentence splitting in English, Russian, Azerbaijani and Persian."""

from __future__ import annotations

import pytest

from bot.review.sentences import split_sentences


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # English: abbreviations, initials, decimals, a.m.
        (
            "Dr. Smith met U.S. officials at 10 a.m. on Monday. They talked for 1.5 hours.",
            ["Dr. Smith met U.S. officials at 10 a.m. on Monday.", "They talked for 1.5 hours."],
        ),
        ("J. R. Smith left. No. 5 stayed.", ["J. R. Smith left.", "No. 5 stayed."]),
        ("He said no. Then he left.", ["He said no.", "Then he left."]),
        # quotes, question inside a quote, ellipses
        (
            '"Is it over?" he asked. "Yes." She left... and came back… Then silence.',
            ['"Is it over?" he asked.', '"Yes."', "She left... and came back…", "Then silence."],
        ),
        ("Wait! What? Really.", ["Wait!", "What?", "Really."]),
        ("Visit example.com today. Or not.", ["Visit example.com today.", "Or not."]),
        # Russian: т.е., г., им., decimals with a comma, «quotes»
        (
            "Он сказал, т.е. подтвердил. В 2024 г. рост составил 3,2%. Улица им. Ленина закрыта!",
            [
                "Он сказал, т.е. подтвердил.",
                "В 2024 г. рост составил 3,2%.",
                "Улица им. Ленина закрыта!",
            ],
        ),
        ("Он: «Мы готовы». Затем ушёл.", ["Он: «Мы готовы».", "Затем ушёл."]),
        (
            "В. Путин прибыл в Баку. Визит продлится 2 дня.",
            ["В. Путин прибыл в Баку.", "Визит продлится 2 дня."],
        ),
        # Azerbaijani: dotted capitals, ellipsis, numbers
        (
            "Prezident İlham Əliyev Tehranda oldu. İki ölkə 5 sənəd imzalayıb... Görüş 2,5 saat çəkdi.",
            [
                "Prezident İlham Əliyev Tehranda oldu.",
                "İki ölkə 5 sənəd imzalayıb...",
                "Görüş 2,5 saat çəkdi.",
            ],
        ),
        (
            "Ticarət 1.5 mlrd. dollar olub. Şərqə yol açılır.",
            ["Ticarət 1.5 mlrd. dollar olub.", "Şərqə yol açılır."],
        ),
        # Persian: ؟ and ., no letter case, ZWNJ kept
        (
            "رئیس جمهور به باکو سفر کرد. آیا توافق امضا می‌شود؟ مذاکرات ادامه دارد.",
            ["رئیس جمهور به باکو سفر کرد.", "آیا توافق امضا می‌شود؟", "مذاکرات ادامه دارد."],
        ),
        (
            "ارزش تجارت ۱.۵ میلیارد دلار است! «ما آماده‌ایم.» او گفت.",
            ["ارزش تجارت ۱.۵ میلیارد دلار است!", "«ما آماده‌ایم.»", "او گفت."],
        ),
        # paragraphs always split, empty text gives nothing
        ("First line without stop\nSecond line.", ["First line without stop", "Second line."]),
        ("   ", []),
    ],
)
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected
