"""Article extraction: decoding, title and paragraphs, pages that hold no article."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.feeds.extract import decode_html, extract_article

PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "articles"
REPO = Path(__file__).resolve().parents[2]
SHARED = Path("/work/shared/data/article-pages")


def test_english_article_gives_title_and_paragraphs_without_furniture() -> None:
    article = extract_article(decode_html((PAGES / "en-article.html").read_bytes()))
    assert article is not None
    assert article.title == "Azerbaijan, Iran sign deal on Astara road bridge"
    assert len(article.paragraphs) == 5
    assert article.paragraphs[0].startswith("BAKU, Nov 27 (Reuters) - Azerbaijan and Iran signed")
    text = article.text
    assert "World story number" not in text
    assert "Share on X" not in text
    assert "dataLayer" not in text
    assert "All rights reserved" not in text


def test_windows_1251_page_is_decoded_by_its_meta_charset() -> None:
    body = (PAGES / "ru-cp1251.html").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    article = extract_article(decode_html(body))
    assert article is not None
    assert article.title == "Алиев обсудил с Арагчи мост через Астару"
    assert any("товарооборот" in p and "1,5 раза" in p for p in article.paragraphs)
    assert "Новости раздела" not in article.text


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        ("Привет".encode("cp1251"), "text/html; charset=windows-1251", "Привет"),
        (
            '<meta charset="koi8-r"><p>Привет'.encode("koi8-r"),
            None,
            '<meta charset="koi8-r"><p>Привет',
        ),
        # A stale label over valid UTF-8 (saved pages): the bytes win.
        ('<meta charset="gb2312"><p>中文'.encode(), None, '<meta charset="gb2312"><p>中文'),
        # No label at all: Cyrillic high bytes read as Windows-1251, others as Windows-1252.
        ("<p>Новости дня".encode("cp1251"), None, "<p>Новости дня"),
        ("<p>café".encode("cp1252"), None, "<p>café"),
        (
            "<p>Le président a rencontré à Bakou ses homologues, déjà là-bas où il a évoqué.".encode(
                "cp1252"
            ),
            None,
            "<p>Le président a rencontré à Bakou ses homologues, déjà là-bas où il a évoqué.",
        ),
        (
            "<p>رئيس جمهور ايران به باكو سفر كرد. دو كشور درباره كريدور ارس گفتگو كردند.".encode(
                "cp1256"
            ),
            None,
            "<p>رئيس جمهور ايران به باكو سفر كرد. دو كشور درباره كريدور ارس گفتگو كردند.",
        ),
        (b"\xef\xbb\xbf<p>x", "text/html; charset=latin-1", "<p>x"),
        ("<p>é".encode("cp1252"), "text/html; charset=nonsense", "<p>é"),
    ],
)
def test_decode_html(body: bytes, content_type: str | None, expected: str) -> None:
    assert decode_html(body, content_type) == expected


@pytest.mark.parametrize(
    "page",
    [
        (PAGES / "front-page.html").read_text(encoding="utf-8"),
        "<html><body><p>Subscribe to read this article.</p></body></html>",
        "",
        "not html at all",
    ],
    ids=["front-page", "paywall-stub", "empty", "plain"],
)
def test_pages_without_an_article_give_none(page: str) -> None:
    assert extract_article(page) is None


def _extract(arg: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "bot", "extract", arg],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=REPO,
        check=False,
    )


def test_extract_command_prints_title_blank_line_and_paragraphs() -> None:
    result = _extract(str(PAGES / "ru-cp1251.html"))
    assert result.returncode == 0, result.stderr
    blocks = result.stdout.rstrip("\n").split("\n\n")
    assert blocks[0] == "Алиев обсудил с Арагчи мост через Астару"
    assert blocks[-1].startswith("Эксперты отмечают")
    assert all(b.strip() and "\n" not in b for b in blocks)


@pytest.mark.parametrize("name", ["front-page.html", "missing.html"])
def test_extract_command_exits_1_with_one_line_when_nothing_can_be_extracted(name: str) -> None:
    result = _extract(str(PAGES / name))
    assert result.returncode == 1
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert name in result.stderr


@pytest.mark.skipif(not SHARED.is_dir(), reason="the shared article pages are not on this machine")
def test_our_extraction_scores_at_least_bare_trafilatura_on_real_pages() -> None:
    sys.path.insert(0, str(REPO))
    from benchmarks.extract import score

    rows = score(SHARED)
    assert len(rows) >= 30
    bare = sum(r[1] for r in rows) / len(rows)
    ours = sum(r[2] for r in rows) / len(rows)
    assert ours >= bare
    assert ours >= 0.9
