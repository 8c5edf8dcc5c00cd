"""Stories end to end: two outlets word one event differently → one message, edited to name the
second outlet ("Also: …"); a look-alike event → a message of its own; /latest lists the story
once. Loopback feed server → the whole bot (`app.run_bot`) → real PTB → Bot API emulator."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.config import load_config
from tests.emulator.server import TelegramEmulator
from tests.feeds.build import item, rss
from tests.servers import FeedServer
from tests.telegram.test_e2e import POLL, environment, running, started, subscribe, write_config

SET = Path(__file__).resolve().parents[1] / "fixtures" / "stories" / "labelled-dev.jsonl"
CHAT = 601


def _report(n: int, report_id: str, minutes_ago: int) -> object:
    """A feed item carrying one labelled report's words, published `minutes_ago`."""
    record = next(
        r for r in map(json.loads, SET.read_text(encoding="utf-8").splitlines())
        if r["id"] == report_id
    )  # fmt: skip
    return item(
        n,
        title=record["title"],
        description=record["summary"],
        link=record["url"],
        guid=record["url"],
        pub_date=datetime.now(UTC) - timedelta(minutes=minutes_ago),
    )


async def test_one_event_from_two_outlets_is_one_message_and_a_look_alike_is_another(
    tmp_path: Path, feed_server: FeedServer, telegram_api: TelegramEmulator, database_url: str
) -> None:
    emu = telegram_api
    emu.configure(rate_limits=None)
    feed_server.put("/apa.xml", rss([]))
    feed_server.put("/shana.xml", rss([]))
    config_dir = write_config(tmp_path, feed_server, {"apa": "/apa.xml", "shana": "/shana.xml"})
    config = load_config(environment(config_dir, database_url, emu))
    await subscribe(database_url, [CHAT])
    # "Parviz Shahbazov and Mohsen Paknejad sign gas swap memorandum" (names, a figure) and
    # "Iran, Azerbaijan seal gas swap MoU" (titles, no figure): one event, few shared words.
    signed, sealed = _report(1, "d-gas-en1", 50), _report(2, "d-gas-en2", 40)
    # The same two ministers the same day, on power lines: another event.
    power = _report(3, "d-elec-en1", 30)
    async with running(config):
        await started(emu)
        for path in ("/apa.xml", "/shana.xml"):  # first sight: nothing stored yet to announce
            await feed_server.wait_for_requests_async(path, 1, timeout=20)

        feed_server.put("/apa.xml", rss([signed]))
        [first] = await emu.wait_for_messages_async(CHAT, 1, timeout=POLL)
        assert first.plain_text.startswith("Parviz Shahbazov and Mohsen Paknejad sign")

        feed_server.put("/shana.xml", rss([sealed]))
        await emu.wait_until_async(lambda: emu.sent_messages(CHAT)[0].edits, timeout=POLL)
        assert len(emu.sent_messages(CHAT)) == 1  # an edit, not a second message
        edited = emu.sent_messages(CHAT)[0]
        assert edited.plain_text.endswith("Also: Outlet shana")

        feed_server.put("/apa.xml", rss([power, signed]))
        await emu.wait_for_messages_async(CHAT, 2, timeout=POLL)
        assert emu.sent_messages(CHAT)[1].plain_text.startswith("Shahbazov, Paknejad discuss power")

        emu.send_command(CHAT, "/latest 5", chat_type="private")
        await emu.wait_for_messages_async(CHAT, 3, timeout=10)

    messages = emu.sent_messages(CHAT)
    assert len(messages) == 3
    assert len(messages[0].edits) == 1
    latest = messages[2].plain_text
    assert latest.count("gas swap memorandum") == 1  # the story once, not once per outlet
    assert "Outlet apa" in latest
    assert "Outlet shana" in latest
    assert latest.count("Shahbazov, Paknejad discuss power grid link") == 1
