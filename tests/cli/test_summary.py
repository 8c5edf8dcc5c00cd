"""`python -m bot summarize` and `python -m bot extract URL` as real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers import FeedServer

REPO = Path(__file__).resolve().parents[2]
PAGES = REPO / "tests" / "fixtures" / "articles"


def run(*args: str, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELEGRAM_", "BOT_", "DATABASE_URL"))
    }
    base.update(BOT_CONFIG_DIR=str(REPO / "config"), **env)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env=base,
        cwd=REPO,
        check=False,
    )


RECORDS = [
    {
        "id": 1,
        "title": "Aliyev, Pezeshkian discuss transit",
        "summary": "Presidents spoke by phone on Monday. The weather was mild. "
        "Iran and Azerbaijan agreed to speed up the Aras corridor. Read more",
        "lang": "en",
    },
    {
        "id": "ru-1",
        "title": "Алиев и Пезешкиан обсудили транзит",
        "summary": "Президенты поговорили по телефону, т.е. провели переговоры. Погода хорошая. "
        "Иран и Азербайджан ускорят работы на 1,5 км участка.",
        "lang": "ru",
    },
    {
        "id": 3,
        "title": "Əliyev və Pezeşkian tranziti müzakirə edib",
        "summary": "Qısa xəbər.",
        "text": "Prezidentlər telefonla danışıb. Hava mülayim idi. "
        "Azərbaycan və İran Araz dəhlizini sürətləndirəcək.",
        "lang": "az",
    },
    {
        "id": 4,
        "title": "گفتگوی علی‌اف و پزشکیان",
        "summary": "روسای جمهور تلفنی گفتگو کردند. هوا خوب بود. ایران و آذربایجان کریدور ارس را تسریع می‌کنند؟",
        "lang": "fa",
    },
]


def test_summarize_writes_one_line_per_input_in_order_and_reports_bad_lines() -> None:
    lines = [json.dumps(r, ensure_ascii=False) for r in RECORDS]
    lines.insert(2, "{not json")
    lines.insert(3, json.dumps({"title": "no id"}))
    done = run("summarize", "-", stdin="\n".join(lines) + "\n")
    assert done.returncode == 1
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert out[0] == {
        "id": 1,
        "summary": "Presidents spoke by phone on Monday. "
        "Iran and Azerbaijan agreed to speed up the Aras corridor.",
    }
    assert out[1] == {
        "id": "ru-1",
        "summary": "Президенты поговорили по телефону, т.е. провели переговоры. "
        "Иран и Азербайджан ускорят работы на 1,5 км участка.",
    }
    assert out[2]["line"] == 3
    assert "error" in out[2]
    assert out[3]["line"] == 4
    assert "id" in out[3]["error"]
    assert out[4] == {
        "id": 3,
        "summary": "Prezidentlər telefonla danışıb. Azərbaycan və İran Araz dəhlizini sürətləndirəcək.",
    }
    assert out[5] == {
        "id": 4,
        "summary": "روسای جمهور تلفنی گفتگو کردند. ایران و آذربایجان کریدور ارس را تسریع می‌کنند؟",
    }


def test_summarize_honours_bot_summary_chars_and_a_clean_run_exits_0(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps(RECORDS[0]) + "\n", encoding="utf-8")
    done = run("summarize", str(path), BOT_SUMMARY_CHARS="50")
    assert done.returncode == 0, done.stderr
    [out] = [json.loads(line) for line in done.stdout.splitlines()]
    assert out == {"id": 1, "summary": "Presidents spoke by phone on Monday."}


@pytest.mark.parametrize(("flag", "code"), [("1", 0), ("0", 1)])
def test_extract_a_url_through_the_address_checks(
    feed_server: FeedServer, flag: str, code: int
) -> None:
    feed_server.put("/a", (PAGES / "en-article.html").read_bytes(), content_type="text/html")
    done = run("extract", feed_server.url("/a"), BOT_ALLOW_PRIVATE_URLS=flag)
    assert done.returncode == code, done.stderr
    if code == 0:
        assert done.stdout.startswith("Azerbaijan, Iran sign deal on Astara road bridge\n\nBAKU")
    else:
        assert "loopback" in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
