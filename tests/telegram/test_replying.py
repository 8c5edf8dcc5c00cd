"""Command answers: split at line boundaries within Telegram's limit, paced, retried on 429 and 5xx.

Splitting is checked against the emulator's copy of Telegram's HTML parser (every part must parse
and fit); sending goes through the real PTB Bot to the emulator, with faults injected.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
from telegram import Bot

from bot.errors import ChatUnavailableError, TransientDeliveryError
from bot.telegram.pacing import Limits, Pacer
from bot.telegram.replying import Replier, split_message
from bot.text.markup import TELEGRAM_TEXT_LIMIT, utf16_len, visible_text
from tests.emulator.html import parse_html
from tests.emulator.server import Fault, TelegramEmulator

CHAT = 5001
SCALE = 20.0  # the emulator's and the pacer's clocks run this much faster


def check_parts(markup: str, parts: list[str], limit: int) -> None:
    """Every part parses as Telegram HTML, fits, and together they show all of the text."""
    shown = []
    for part in parts:
        text, _ = parse_html(part)
        assert utf16_len(text) <= limit, (utf16_len(text), part[:80])
        shown.append(text)
    assert " ".join(shown).split() == visible_text(markup).split()


# -- split_message ------------------------------------------------------------------------------


def test_a_short_answer_is_one_part_unchanged():
    assert split_message("<b>Hello</b> &amp; welcome") == ["<b>Hello</b> &amp; welcome"]


def test_a_blank_answer_has_no_parts():
    assert split_message(" \n ") == []


def test_a_long_answer_is_cut_at_line_boundaries():
    lines = [f"{n}. <b>{'Item'}</b> title number {n} &amp; more" for n in range(400)]
    markup = "\n".join(lines)
    parts = split_message(markup)
    assert len(parts) > 1
    check_parts(markup, parts, TELEGRAM_TEXT_LIMIT)
    for part in parts:  # whole lines only
        assert all(line in lines for line in part.split("\n"))


def test_the_limit_counts_utf16_units_of_visible_text():
    line = "🇦🇿" * 10  # 4 units each flag, 40 a line
    parts = split_message("\n".join([line] * 10), limit=100)
    assert [visible_text(p).count("\n") for p in parts] == [1] * 5
    check_parts("\n".join([line] * 10), parts, 100)


def test_tags_open_across_a_cut_are_closed_and_reopened():
    markup = "<blockquote>" + "\n".join(f"line {n:03d} of the quote" for n in range(50))
    markup += '</blockquote>\n<a href="https://example.org/?a=1&amp;b=2">link</a>'
    parts = split_message(markup, limit=200)
    assert len(parts) > 2
    check_parts(markup, parts, 200)
    assert all(p.startswith("<blockquote>") for p in parts[1:-1])


def test_an_overlong_line_is_cut_at_spaces_never_inside_a_tag_or_entity():
    words = [f"w{n}&amp;<i>x</i>" for n in range(300)]
    markup = " ".join(words)
    parts = split_message(markup, limit=100)
    check_parts(markup, parts, 100)
    for part in parts:
        assert visible_text(part).strip().split(" ")[0].startswith("w")


def test_a_line_without_spaces_is_cut_between_characters():
    markup = "x" * 250
    parts = split_message(markup, limit=100)
    assert [len(p) for p in parts] == [100, 100, 50]


# -- Replier against the emulator ----------------------------------------------------------------


@pytest.fixture
def emu(telegram_api: TelegramEmulator) -> TelegramEmulator:
    telegram_api.configure(time_scale=SCALE)
    return telegram_api


@pytest.fixture
async def bot(emu: TelegramEmulator) -> AsyncIterator[Bot]:
    async with Bot(emu.token, base_url=emu.api_url) as b:
        yield b


@pytest.fixture
def replier(bot: Bot) -> Replier:
    return Replier(bot, Pacer(Limits(scale=SCALE)), backoff=0.01)


async def test_a_long_reply_arrives_in_order_in_parts_within_the_limit(emu, replier):
    markup = "\n".join(f"{n:04d} <b>news</b> line with some words" for n in range(500))
    ids = await replier.reply(CHAT, markup)
    sent = emu.sent_messages(CHAT)
    assert [m.message_id for m in sent] == ids
    assert len(ids) == len(split_message(markup)) > 1
    text = "\n".join(m.plain_text for m in sent)
    assert text.split("\n") == visible_text(markup).split("\n")
    assert emu.stats.too_many_requests == 0  # paced below the per-chat limit


async def test_a_429_pauses_the_chat_for_retry_after_then_the_reply_goes_once(emu, replier):
    emu.inject(CHAT, Fault.retry_after(2), methods=["sendMessage"])
    started = time.monotonic()
    ids = await replier.reply(CHAT, "Subscribed.")
    waited = time.monotonic() - started
    assert len(ids) == 1
    assert [m.plain_text for m in emu.sent_messages(CHAT)] == ["Subscribed."]
    assert waited >= 2 / SCALE  # retry_after is in Telegram seconds
    assert len(emu.requests("sendMessage")) == 2


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_5xx_answers_are_retried(emu, replier, status):
    emu.inject(CHAT, Fault.server_error(status), times=2, methods=["sendMessage"])
    await replier.reply(CHAT, "Unsubscribed.")
    assert [m.plain_text for m in emu.sent_messages(CHAT)] == ["Unsubscribed."]
    assert len(emu.requests("sendMessage")) == 3


async def test_after_every_attempt_failed_the_error_is_raised(emu, bot):
    emu.inject(CHAT, Fault.server_error(502), times=None, methods=["sendMessage"])
    replier = Replier(bot, Pacer(Limits(scale=SCALE)), attempts=3, backoff=0.01)
    with pytest.raises(TransientDeliveryError):
        await replier.reply(CHAT, "Hello")
    assert len(emu.requests("sendMessage")) == 3
    assert emu.sent_messages(CHAT) == []


async def test_a_refused_html_part_is_sent_as_plain_text(emu, replier):
    emu.inject(CHAT, Fault.cant_parse(), methods=["sendMessage"])
    await replier.reply(CHAT, "<b>Bold</b> &amp; plain")
    sent = emu.sent_messages(CHAT)
    assert [m.plain_text for m in sent] == ["Bold & plain"]
    assert sent[0].entities in ([], None)


async def test_a_blocked_chat_is_not_retried(emu, replier):
    emu.inject(CHAT, Fault.blocked(), methods=["sendMessage"])
    with pytest.raises(ChatUnavailableError):
        await replier.reply(CHAT, "Hello")
    assert len(emu.requests("sendMessage")) == 1


async def test_replies_to_a_forum_topic_stay_in_it(emu, replier):
    emu.add_chat(-100777, "supergroup", is_forum=True)
    await replier.reply(-100777, "In the topic", thread_id=42)
    assert emu.sent_messages(-100777)[0].message_thread_id == 42
