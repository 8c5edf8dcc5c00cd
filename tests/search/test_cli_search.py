"""`python -m bot search` and `python -m bot alerts list`, run as real processes on a real store."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.alerts import AlertStore
from tests.cli.test_main import bot_env, run_bot, write_config
from tests.search.archive import NOW, fill, search_store
from tests.servers import FeedServer


async def test_search_prints_json_lines_and_console_stories(
    tmp_path: Path, feed_server: FeedServer, database_url: str, db_engine: AsyncEngine
) -> None:
    await fill(search_store(db_engine))
    env = bot_env(tmp_path, write_config(tmp_path, feed_server, {"a": "/a.xml"}), database_url)

    found = run_bot("search", "bridge", "--json", env=env)
    assert found.returncode == 0, found.stderr
    records = [json.loads(line) for line in found.stdout.splitlines()]
    assert [r["title"] for r in records] == [
        "Astara bridge over the border river opens",
        "Bridges and roads: the corridor in numbers",
    ]
    assert set(records[0]) == {"id", "source", "title", "url", "published", "topics"}
    assert records[0]["source"] == "apa-en"
    assert records[0]["topics"] == ["azerbaijan-iran"]

    flagged = run_bot("search", "bridge", "--flagged", "--limit", "5", "--json", env=env)
    assert [json.loads(x)["source"] for x in flagged.stdout.splitlines()] == ["apa-en"]

    plain = run_bot("search", "körpü", env=env)
    assert plain.returncode == 0, plain.stderr
    assert "Report.az" in plain.stdout
    assert "Astara körpüsünün tikintisi başa çatıb" in plain.stdout

    nothing = run_bot("search", "zzzz", env=env)
    assert nothing.stdout.strip() == "nothing found"

    # An exclusion as its own word, unquoted by the shell: a query word, not an option.
    excluded = run_bot("search", "bridge", "-corridor", "--json", env=env)
    assert excluded.returncode == 0, excluded.stderr
    assert [json.loads(x)["title"] for x in excluded.stdout.splitlines()] == [
        "Astara bridge over the border river opens"
    ]


async def test_a_malformed_query_is_one_line_and_exit_2(
    tmp_path: Path, feed_server: FeedServer, database_url: str, db_engine: AsyncEngine
) -> None:
    env = bot_env(tmp_path, write_config(tmp_path, feed_server, {"a": "/a.xml"}), database_url)
    bad = run_bot("search", '"astara', env=env)
    assert bad.returncode == 2
    assert bad.stderr.strip() == 'bad query: unclosed quote: add the closing "'
    assert "Traceback" not in bad.stderr
    only_out = run_bot("search", "-corridor", env=env)  # not argparse's usage text
    assert only_out.returncode == 2
    assert only_out.stderr.strip() == (
        "bad query: a query needs a word to find, not only words to leave out"
    )


async def test_alerts_list_counts_per_chat_without_their_text(
    tmp_path: Path, feed_server: FeedServer, database_url: str, db_engine: AsyncEngine
) -> None:
    alerts = AlertStore(db_engine)
    for chat, query in ((11, "secret plan"), (11, "körpü"), (-1002, "drone")):
        await alerts.add(chat, query, kind="private", title=None, now=NOW, limit=20)
    env = bot_env(tmp_path, write_config(tmp_path, feed_server, {"a": "/a.xml"}), database_url)
    listed = run_bot("alerts", "list", env=env)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split() == [
        "CHAT",
        "ALERTS",
        "-1002",
        "1",
        "11",
        "2",
        "2",
        "chat(s),",
        "3",
        "alert(s)",
    ]
    assert "secret" not in listed.stdout
