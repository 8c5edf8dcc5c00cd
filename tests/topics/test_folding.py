"""Folding and tokenizing: the four languages' spelling variants meet in one form."""

from __future__ import annotations

import pytest

from bot.topics.folding import FoldCache, fold_char, is_soft_gap, normalize, tokenize


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Turkish/Azerbaijani dotted capital İ, dotless ı, plain I and i are one letter.
        ("İRAN", "iran"),
        ("İranla", "iranla"),
        ("IRAN", "iran"),
        ("ıran", "iran"),
        ("ŞƏRQİ AZƏRBAYCAN", "sərqi azərbaycan"),
        # ə is a letter of its own, not an accent: it does not become e or a.
        ("Azərbaycanın", "azərbaycanin"),
        # Diacritics go: ş ç ğ ö ü é ё й.
        ("Şuşa Çin Ağdam Özbəkistan Gürcüstan", "susa cin agdam ozbəkistan gurcustan"),
        ("Pezeşkian résumé", "pezeskian resume"),
        ("Ёлка Байрамов", "елка баирамов"),
        # Decomposed input folds like composed input.
        ("I\u0307ran e\u0301", "iran e"),
        # Persian and Arabic letter variants.
        ("ايران", "ایران"),  # Arabic yeh
        ("كشور", "کشور"),  # Arabic kaf
        ("مدرسة", "مدرسه"),  # teh marbuta
        ("خانۀ", "خانه"),  # heh with yeh above
        ("آذربایجان", "اذربایجان"),  # alef madda
        ("أحمد إيران", "احمد ایران"),  # hamza on alef
        ("رئیسی", "رییسی"),  # hamza on yeh
        ("ایـــران", "ایران"),  # tatweel
        ("مَدرَسه", "مدرسه"),  # harakat
        # Persian and Arabic-Indic digits.
        ("۱۲ ٣٤", "12 34"),
        # Zero-width non-joiner and joiner are word-internal: they neither split nor remain.
        ("علی‌اف", "علیاف"),
        ("نان‍های", "نانهای"),
        ("Azer\u00adbaijan", "azerbaijan"),  # soft hyphen
        # NFKC: ligatures, full-width letters, Arabic presentation forms.
        ("ﬁnal", "final"),
        ("ＩＲＡＮ", "iran"),
        ("ﻻ", "لا"),
        # Hyphens, dashes and apostrophes split words.
        ("Iranian-Azerbaijani", "iranian azerbaijani"),
        ("Tehran–Baku", "tehran baku"),
        ("Baku—Tehran", "baku tehran"),
        ("Iran's", "iran s"),
        ("  Iran ,  Azerbaijan. ", "iran azerbaijan"),
        ("snake_case", "snake case"),
        ("", ""),
    ],
)
def test_normalize_folds_spelling_variants_to_one_form(text: str, expected: str) -> None:
    assert normalize(text) == expected


@pytest.mark.parametrize(("ch", "expected"), [("İ", "i"), ("ı", "i"), ("\u200c", ""), ("ß", "ss")])
def test_fold_char_folds_one_character(ch: str, expected: str) -> None:
    assert fold_char(ch) == expected


def test_tokens_keep_offsets_into_the_original_text() -> None:
    text = "Sfer: İRAN–Baku"
    tokens = tokenize(text)
    assert [t.norm for t in tokens] == ["sfer", "iran", "baku"]
    assert [text[t.start : t.end] for t in tokens] == ["Sfer", "İRAN", "Baku"]


@pytest.mark.parametrize(
    ("text", "joined"),
    [
        ("Iran Azerbaijan", True),
        ("Iran-Azerbaijan", True),
        ("Iran – Azerbaijan", True),
        ("Iran's Azerbaijan", True),
        ("Iran, Azerbaijan", False),
        ("Iran. Azerbaijan", False),
        ("Iran «Azerbaijan", False),
        ("Iran/Azerbaijan", False),
    ],
)
def test_only_spaces_dashes_and_apostrophes_join_words(text: str, joined: bool) -> None:
    assert tokenize(text)[1].joined is joined


def test_soft_gap_accepts_invisible_marks_and_rejects_commas() -> None:
    assert is_soft_gap(" \u200f- ")
    assert not is_soft_gap(" ، ")


def test_fold_cache_stays_bounded_and_still_folds_correctly() -> None:
    cache = FoldCache(max_words=3)
    words = [f"İran{n}" for n in range(10)]
    assert [cache.word(w) for w in words] == [f"iran{n}" for n in range(10)]
    assert len(cache._words) <= 3
    assert tokenize("İRAN", cache)[0].norm == "iran"
