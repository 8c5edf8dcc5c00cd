"""Article extraction quality: token F1 against reference text, ours vs bare trafilatura.

Runs both on every page of a directory laid out as /work/shared/data/article-pages/ (NAME/
source.html and NAME/expected.txt: title, blank line, paragraphs) and prints the F1 per page and
the means. Tokens are lower-cased words, and single characters of Chinese and Japanese text
(which has no spaces). "bare" is `trafilatura.extract(html)` with its defaults on the same
decoded text; "ours" is `bot.feeds.extract` as `python -m bot extract` prints it (title included,
as the reference has it).

    python benchmarks/extract.py [DIR]
"""

from __future__ import annotations

import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import trafilatura

from bot.feeds.extract import decode_html, extract_article

DEFAULT_DIR = Path("/work/shared/data/article-pages")
_TOKEN = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]|\w+")


def tokens(text: str) -> Counter[str]:
    """Lower-cased word tokens; CJK characters count one each."""
    return Counter(_TOKEN.findall(text.lower()))


def f1(candidate: str, reference: str) -> float:
    """Token-bag F1 of `candidate` against `reference` (0 when either is empty)."""
    got, want = tokens(candidate), tokens(reference)
    common = sum((got & want).values())
    if not common:
        return 0.0
    precision, recall = common / sum(got.values()), common / sum(want.values())
    return 2 * precision * recall / (precision + recall)


def ours(page: str) -> str:
    """What `python -m bot extract` prints for the page ("" when nothing)."""
    article = extract_article(page)
    return article.render() if article is not None else ""


def bare(page: str) -> str:
    """trafilatura with its defaults."""
    return trafilatura.extract(page) or ""


def score(directory: Path) -> list[tuple[str, float, float]]:
    """(page name, F1 bare, F1 ours) for every page in `directory`."""
    rows = []
    for folder in sorted(p for p in directory.iterdir() if (p / "source.html").exists()):
        page = decode_html((folder / "source.html").read_bytes())
        reference = (folder / "expected.txt").read_text(encoding="utf-8")
        rows.append((folder.name, f1(bare(page), reference), f1(ours(page), reference)))
    return rows


def main() -> None:
    directory = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DIR
    started = time.perf_counter()
    rows = score(directory)
    elapsed = time.perf_counter() - started
    print(f"{'page':<28} {'bare':>6} {'ours':>6}")
    for name, b, o in rows:
        print(f"{name:<28} {b:6.3f} {o:6.3f}")
    print(
        f"{'mean':<28} {statistics.mean(r[1] for r in rows):6.3f} "
        f"{statistics.mean(r[2] for r in rows):6.3f}"
    )
    print(
        f"{'median':<28} {statistics.median(r[1] for r in rows):6.3f} "
        f"{statistics.median(r[2] for r in rows):6.3f}"
    )
    print(f"{len(rows)} pages in {elapsed:.1f}s (both extractors)")


if __name__ == "__main__":
    main()
