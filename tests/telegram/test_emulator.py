"""The Telegram Bot API emulator, driven by the real python-telegram-bot client over loopback."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from telegram import Bot, BotCommand, ChatFullInfo, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)

from tests.emulator.html import parse_html, utf16_len
from tests.emulator.server import Fault, RateLimiter, RateLimits, TelegramEmulator

PRIVATE, GROUP, SUPERGROUP = 501, -502, -1001234567890


@pytest.fixture(autouse=True)
def _timedelta_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    # PTB 22 warns when RetryAfter.retry_after is an int; opting in to timedelta avoids it.
    monkeypatch.setenv("PTB_TIMEDELTA", "1")


@pytest.fixture
async def bot(telegram_api: TelegramEmulator) -> AsyncIterator[Bot]:
    async with Bot(telegram_api.token, base_url=telegram_api.api_url) as client:
        yield client


@pytest.fixture
def unlimited(telegram_api: TelegramEmulator) -> TelegramEmulator:
    telegram_api.configure(rate_limits=None)
    return telegram_api


def _post(emu: TelegramEmulator, method: str, **kwargs: object) -> httpx.Response:
    return httpx.post(f"{emu.api_url}{emu.token}/{method}", timeout=5, **kwargs)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- basics
async def test_get_me_returns_the_bot_identity(bot: Bot, telegram_api: TelegramEmulator) -> None:
    me = await bot.get_me()
    assert (me.id, me.is_bot, me.username) == (123456, True, "media_review_test_bot")
    assert telegram_api.requests("getMe")


async def test_send_message_is_accepted_and_recorded(
    bot: Bot, telegram_api: TelegramEmulator
) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Open", url="https://example.org/a")]])
    message = await bot.send_message(
        SUPERGROUP,
        "<b>Title</b> &amp; more",
        parse_mode="HTML",
        message_thread_id=7,
        disable_web_page_preview=True,
        reply_markup=markup,
    )
    assert (message.chat.id, message.chat.type, message.text) == (
        SUPERGROUP,
        "supergroup",
        "Title & more",
    )
    assert message.from_user is not None
    assert message.from_user.is_bot
    assert message.message_thread_id == 7
    [sent] = telegram_api.sent_messages(SUPERGROUP)
    assert sent.message_id == message.message_id
    assert (sent.text, sent.plain_text, sent.parse_mode) == (
        "<b>Title</b> &amp; more",
        "Title & more",
        "HTML",
    )
    assert sent.entities == [{"type": "bold", "offset": 0, "length": 5}]
    assert sent.message_thread_id == 7
    assert sent.link_preview_options == {"is_disabled": True}
    assert sent.reply_markup == markup.to_dict()
    assert telegram_api.stats.messages == 1


async def test_json_bodies_are_accepted_like_form_bodies(telegram_api: TelegramEmulator) -> None:
    response = await asyncio.to_thread(
        _post,
        telegram_api,
        "sendMessage",
        json={"chat_id": PRIVATE, "text": "<i>x</i>", "parse_mode": "HTML"},
    )
    assert response.json()["result"]["entities"] == [{"type": "italic", "offset": 0, "length": 1}]


async def test_wrong_token_is_rejected_as_invalid(telegram_api: TelegramEmulator) -> None:
    with pytest.raises(InvalidToken, match="rejected by the server"):
        async with Bot("999:wrong", base_url=telegram_api.api_url):
            pass
    response = await asyncio.to_thread(httpx.post, f"{telegram_api.api_url}999:wrong/getMe")
    assert response.status_code == 401
    assert response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}


async def test_unknown_method_answers_telegrams_404(
    bot: Bot, telegram_api: TelegramEmulator
) -> None:
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendTelepathy", api_kwargs={"chat_id": PRIVATE})
    response = await asyncio.to_thread(_post, telegram_api, "sendTelepathy")
    assert response.status_code == 404
    assert response.json() == {
        "ok": False,
        "error_code": 404,
        "description": "Not Found: method not found",
    }


async def test_method_names_are_case_insensitive(telegram_api: TelegramEmulator) -> None:
    response = await asyncio.to_thread(_post, telegram_api, "GETME")
    assert response.json()["result"]["username"] == "media_review_test_bot"


# --------------------------------------------------------------------------- HTML and length
@pytest.mark.parametrize(
    ("text", "description"),
    [
        ("<script>alert(1)</script>", 'Unsupported start tag "script" at byte offset 0'),
        ("Title<br>more", 'Unsupported start tag "br" at byte offset 5'),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("x <b", "Unclosed start tag at byte offset 2"),
        ("AT&T", 'Unescaped "&" at byte offset 2: write &amp;'),
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<i>a</i   ", "Unclosed end tag at byte offset 4"),
        ('<a href="x" title>y</a>',
         'Expected equal sign in declaration of an attribute of the tag "a" at byte offset 0'),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("🏟 🏟&lt;<abac>", 'Unsupported start tag "abac" at byte offset 13'),
        ("&#57311;", "Text contains invalid Unicode characters after decoding HTML entities, "
                     "check for unmatched surrogate code units"),
    ],
)  # fmt: skip
async def test_invalid_html_is_refused_with_telegrams_wording(
    bot: Bot, telegram_api: TelegramEmulator, text: str, description: str
) -> None:
    with pytest.raises(BadRequest) as caught:
        await bot.send_message(PRIVATE, text, parse_mode="HTML")
    # PTB strips "Bad Request: " and capitalizes the rest, which lowercases it.
    assert caught.value.message == f"Can't parse entities: {description}".capitalize()
    assert telegram_api.sent_messages() == []


async def test_html_error_body_matches_telegram(telegram_api: TelegramEmulator) -> None:
    data = {"chat_id": str(PRIVATE), "text": "<u>x", "parse_mode": "HTML"}
    response = await asyncio.to_thread(_post, telegram_api, "sendMessage", data=data)
    assert response.status_code == 400
    assert response.json() == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: can't parse entities: "
        'Can\'t find end tag corresponding to start tag "u"',
    }


def _e(kind: str, offset: int, length: int, **extra: str) -> dict[str, Any]:
    return {"type": kind, "offset": offset, "length": length, **extra}


@pytest.mark.parametrize(
    ("html", "plain", "entities"),
    [
        ("&lt;script&gt; &amp; &quot;q&quot; &#39;s&#x27;", "<script> & \"q\" 's'", []),
        ("<b>b</b><strong>s</strong><i>i</i><em>e</em>", "bsie",
         [_e("bold", 0, 1), _e("bold", 1, 1), _e("italic", 2, 1), _e("italic", 3, 1)]),
        ("<u>u</u><ins>n</ins><s>s</s><strike>k</strike><del>d</del>", "unskd",
         [_e("underline", 0, 1), _e("underline", 1, 1), _e("strikethrough", 2, 1),
          _e("strikethrough", 3, 1), _e("strikethrough", 4, 1)]),
        ('<span class="tg-spoiler">a</span><tg-spoiler>b</tg-spoiler>', "ab",
         [_e("spoiler", 0, 1), _e("spoiler", 1, 1)]),
        ('🏟 <a href="https://e.org/?a=1&amp;b=2">link</a>', "🏟 link",
         [_e("text_link", 3, 4, url="https://e.org/?a=1&b=2")]),
        ('<pre><code class="language-python">x = 1</code></pre>', "x = 1",
         [_e("pre", 0, 5, language="python")]),
        ("<code>c</code> <blockquote expandable>q</blockquote> <blockquote>r</blockquote>", "c q r",
         [_e("code", 0, 1), _e("expandable_blockquote", 2, 1), _e("blockquote", 4, 1)]),
        ('<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>', "👍",
         [_e("custom_emoji", 0, 2, custom_emoji_id="5368324170671202286")]),
        ("<B>nested <I>tags</I></B>", "nested tags", [_e("bold", 0, 11), _e("italic", 7, 4)]),
    ],
)  # fmt: skip
def test_valid_html_parses_to_plain_text_and_entities(
    html: str, plain: str, entities: list[dict[str, Any]]
) -> None:
    assert parse_html(html) == (plain, entities)


def test_lenient_mode_keeps_a_bare_ampersand_as_telegram_does() -> None:
    assert parse_html("AT&T &laquo;", strict_ampersand=False) == ("AT&T &laquo;", [])


@pytest.mark.parametrize(
    ("text", "accepted"),
    [
        ("<b>" + "a" * 4096 + "</b>", True),  # tags do not count
        ("&amp;" * 4096, True),  # an entity counts as the one character it stands for
        ("a" * 4097, False),
        ("😀" * 2048, True),  # an emoji is two UTF-16 units
        ("😀" * 2048 + "a", False),
        ("  " + "a" * 4096 + "\n\n", True),  # surrounding whitespace is trimmed first
    ],
)
async def test_length_limit_counts_utf16_units_after_entity_parsing(
    bot: Bot, unlimited: TelegramEmulator, text: str, accepted: bool
) -> None:
    if accepted:
        await bot.send_message(PRIVATE, text, parse_mode="HTML")
        [sent] = unlimited.sent_messages(PRIVATE)
        assert utf16_len(sent.plain_text) <= 4096
    else:
        with pytest.raises(BadRequest, match="Message is too long"):
            await bot.send_message(PRIVATE, text, parse_mode="HTML")


@pytest.mark.parametrize("text", ["   \n ", "<b></b>", "<b> </b>"])
async def test_text_that_parses_to_nothing_is_empty(bot: Bot, text: str) -> None:
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(PRIVATE, text, parse_mode="HTML")


# --------------------------------------------------------------------------- rate limits
def test_rate_limiter_admits_one_per_second_per_private_chat_after_a_small_burst() -> None:
    limiter = RateLimiter(RateLimits(private_burst=3))
    assert [limiter.acquire(1, True, 0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.acquire(1, True, 0.0) == pytest.approx(1.0)
    assert limiter.acquire(2, True, 0.0) == 0.0  # another chat has its own bucket
    assert all(limiter.acquire(1, True, t) == 0.0 for t in (1.0, 2.0, 3.0, 4.0))


def test_rate_limiter_admits_twenty_per_minute_per_group() -> None:
    limiter = RateLimiter(RateLimits())
    assert all(limiter.acquire(GROUP, False, i * 0.5) == 0.0 for i in range(20))
    assert limiter.acquire(GROUP, False, 10.0) == pytest.approx(50.0)
    assert limiter.acquire(GROUP, False, 60.01) == 0.0  # the first slot has left the window


def test_rate_limiter_admits_thirty_per_second_overall() -> None:
    limiter = RateLimiter(RateLimits())
    assert all(limiter.acquire(chat, True, chat / 100) == 0.0 for chat in range(1, 31))
    assert limiter.acquire(31, True, 0.5) == pytest.approx(0.51)
    assert limiter.acquire(31, True, 1.02) == 0.0


def test_time_scale_compresses_every_window() -> None:
    limiter = RateLimiter(RateLimits(), time_scale=10)
    assert all(limiter.acquire(GROUP, False, i * 0.01) == 0.0 for i in range(20))
    assert limiter.acquire(GROUP, False, 0.5) == pytest.approx(5.5)
    assert limiter.acquire(GROUP, False, 6.0) == 0.0


async def test_flooding_a_private_chat_gets_retry_after_and_is_counted(
    bot: Bot, telegram_api: TelegramEmulator
) -> None:
    telegram_api.configure(time_scale=0.01)  # refills take 100 s: no timing luck involved
    for n in range(3):
        await bot.send_message(PRIVATE, f"message {n}")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(PRIVATE, "one too many")
    assert caught.value.retry_after == dtm.timedelta(seconds=1)
    assert len(telegram_api.sent_messages(PRIVATE)) == 3
    assert (telegram_api.stats.too_many_requests, telegram_api.stats.rate_limited) == (1, 1)


async def test_a_group_gets_twenty_messages_per_minute(
    bot: Bot, telegram_api: TelegramEmulator
) -> None:
    for n in range(20):
        await bot.send_message(GROUP, f"message {n}")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(GROUP, "one too many")
    retry_after = caught.value.retry_after
    assert isinstance(retry_after, dtm.timedelta)
    assert dtm.timedelta(seconds=1) <= retry_after <= dtm.timedelta(seconds=60)
    await bot.send_message(SUPERGROUP, "another group is not affected")


async def test_more_than_thirty_messages_a_second_overall_is_refused(
    bot: Bot, telegram_api: TelegramEmulator
) -> None:
    telegram_api.configure(time_scale=0.01)
    for chat in range(1, 31):
        await bot.send_message(chat, "hello")
    with pytest.raises(RetryAfter):
        await bot.send_message(31, "hello")
    assert telegram_api.stats.rate_limited == 1


async def test_rate_limits_can_be_disabled(bot: Bot, unlimited: TelegramEmulator) -> None:
    for n in range(40):
        await bot.send_message(PRIVATE, f"message {n}")
    assert unlimited.stats.too_many_requests == 0


# --------------------------------------------------------------------------- faults
@pytest.mark.parametrize(
    ("fault", "error", "message"),
    [
        (Fault.blocked(), Forbidden, "Forbidden: bot was blocked by the user"),
        (Fault.kicked(), Forbidden, "Forbidden: bot was kicked from the group chat"),
        (Fault.chat_not_found(), BadRequest, "Chat not found"),
        (Fault.cant_parse(), BadRequest,
         'Can\'t parse entities: unsupported start tag "x" at byte offset 0'),
        (Fault.server_error(500), NetworkError, "Internal Server Error"),
        (Fault.server_error(502), NetworkError, "Bad Gateway"),
    ],
)  # fmt: skip
async def test_injected_faults_surface_as_ptb_errors(
    bot: Bot,
    telegram_api: TelegramEmulator,
    fault: Fault,
    error: type[Exception],
    message: str,
) -> None:
    telegram_api.inject(PRIVATE, fault)
    with pytest.raises(error) as caught:
        await bot.send_message(PRIVATE, "x")
    assert getattr(caught.value, "message", "") == message
    assert not isinstance(caught.value, BadRequest) or error is BadRequest
    await bot.send_message(PRIVATE, "the fault was one-shot")
    await bot.send_message(PRIVATE + 1, "other chats were never affected")


async def test_injected_migration_gives_the_new_chat_id(
    bot: Bot, telegram_api: TelegramEmulator
) -> None:
    telegram_api.inject(GROUP, Fault.migrated(SUPERGROUP))
    with pytest.raises(ChatMigrated) as caught:
        await bot.send_message(GROUP, "x")
    assert caught.value.new_chat_id == SUPERGROUP


async def test_injected_retry_after_is_counted(bot: Bot, telegram_api: TelegramEmulator) -> None:
    telegram_api.inject(PRIVATE, Fault.retry_after(7), times=2)
    for _ in range(2):
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(PRIVATE, "x")
        assert caught.value.retry_after == dtm.timedelta(seconds=7)
    await bot.send_message(PRIVATE, "x")
    assert (telegram_api.stats.too_many_requests, telegram_api.stats.rate_limited) == (2, 0)


async def test_a_fault_without_limit_lasts_until_cleared(
    bot: Bot, telegram_api: TelegramEmulator
) -> None:
    telegram_api.inject(PRIVATE, Fault.blocked(), times=None, methods=["sendMessage"])
    for _ in range(3):
        with pytest.raises(Forbidden):
            await bot.send_message(PRIVATE, "x")
    await bot.get_chat(PRIVATE)  # other methods are not affected
    telegram_api.clear_faults()
    await bot.send_message(PRIVATE, "x")


async def test_fail_next_fails_any_chat_then_recovers(
    bot: Bot, telegram_api: TelegramEmulator
) -> None:
    telegram_api.fail_next(2, methods=["sendMessage"])
    for chat in (PRIVATE, GROUP):
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await bot.send_message(chat, "x")
    await bot.send_message(PRIVATE, "x")
    assert telegram_api.stats.errors[502] == 2


async def test_a_slow_answer_times_the_client_out_but_the_message_still_lands(
    bot: Bot, telegram_api: TelegramEmulator
) -> None:
    telegram_api.inject(PRIVATE, Fault.slow(0.5))
    with pytest.raises(TimedOut):
        await bot.send_message(PRIVATE, "in flight", read_timeout=0.1)
    [sent] = await telegram_api.wait_for_messages_async(PRIVATE, timeout=5)
    assert sent.plain_text == "in flight"


# --------------------------------------------------------------------------- updates
async def test_long_polling_returns_a_queued_command_at_once(
    bot: Bot, telegram_api: TelegramEmulator
) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await telegram_api.wait_for_requests_async("getUpdates", count=1)
    telegram_api.send_command(GROUP, "/latest@media_review_test_bot 5", user_id=77)
    [update] = await asyncio.wait_for(poll, 5)
    assert time.monotonic() - started < 5
    message = update.effective_message
    assert message is not None
    assert message.text == "/latest@media_review_test_bot 5"
    assert (message.chat.id, message.chat.type, message.from_user.id) == (GROUP, "group", 77)  # type: ignore[union-attr]
    assert message.parse_entities(["bot_command"]) == {
        message.entities[0]: "/latest@media_review_test_bot"
    }


async def test_long_polling_times_out_empty(bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=dtm.timedelta(seconds=0.3)) == ()
    assert 0.25 <= time.monotonic() - started < 3


async def test_offset_confirms_updates(bot: Bot, telegram_api: TelegramEmulator) -> None:
    first = telegram_api.send_command(PRIVATE, "/start")
    telegram_api.send_command(PRIVATE, "/help", message_thread_id=3, chat_type="supergroup")
    updates = await bot.get_updates()
    assert [u.update_id for u in updates] == [first["update_id"], first["update_id"] + 1]
    assert updates[1].message is not None
    assert updates[1].message.message_thread_id == 3
    rest = await bot.get_updates(offset=updates[1].update_id)
    assert [u.update_id for u in rest] == [updates[1].update_id]
    assert await bot.get_updates(offset=updates[1].update_id + 1) == ()
    assert telegram_api.pending_updates == []


async def test_channel_posts_and_callback_queries_are_proper_updates(
    bot: Bot, unlimited: TelegramEmulator
) -> None:
    unlimited.add_chat(-1009, "channel", title="Newsroom", username="newsroom")
    unlimited.send_message(-1009, "post")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Yes", callback_data="yes")]])
    sent = await bot.send_message(PRIVATE, "pick", reply_markup=keyboard)
    query_id = unlimited.send_callback_query(PRIVATE, "yes", message_id=sent.message_id)
    post, press = await bot.get_updates()
    assert post.channel_post is not None
    assert post.channel_post.sender_chat is not None
    assert post.channel_post.sender_chat.title == "Newsroom"
    assert press.callback_query is not None
    assert press.callback_query.data == "yes"
    assert press.callback_query.message.message_id == sent.message_id  # type: ignore[union-attr]
    assert await bot.answer_callback_query(query_id, text="ok")
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query(query_id)
    assert (await bot.get_chat("@newsroom")).id == -1009


async def test_migrating_a_group_sends_service_messages_and_refuses_the_old_id(
    bot: Bot, telegram_api: TelegramEmulator
) -> None:
    telegram_api.migrate_chat(GROUP, SUPERGROUP)
    to_update, from_update = await bot.get_updates()
    assert to_update.message.migrate_to_chat_id == SUPERGROUP  # type: ignore[union-attr]
    assert from_update.message.migrate_from_chat_id == GROUP  # type: ignore[union-attr]
    with pytest.raises(ChatMigrated) as caught:
        await bot.send_message(GROUP, "x")
    assert caught.value.new_chat_id == SUPERGROUP
    assert (await bot.send_message(SUPERGROUP, "x")).chat.type == "supergroup"


# --------------------------------------------------------------------------- other methods
async def test_commands_are_stored_per_scope(bot: Bot, telegram_api: TelegramEmulator) -> None:
    await bot.set_my_commands(
        [BotCommand("start", "Subscribe"), BotCommand("latest", "Newest items")]
    )
    assert telegram_api.commands == [
        {"command": "start", "description": "Subscribe"},
        {"command": "latest", "description": "Newest items"},
    ]
    assert [c.command for c in await bot.get_my_commands()] == ["start", "latest"]
    assert await bot.get_my_commands(language_code="ru") == ()
    with pytest.raises(BadRequest):
        await bot.set_my_commands([BotCommand("Bad-Name", "x")])


async def test_edit_and_delete_follow_the_sent_message(
    bot: Bot, unlimited: TelegramEmulator
) -> None:
    sent = await bot.send_message(PRIVATE, "<b>v1</b>", parse_mode="HTML")
    edited = await bot.edit_message_text("<i>v2</i>", PRIVATE, sent.message_id, parse_mode="HTML")
    assert edited.text == "v2"  # type: ignore[union-attr]
    [record] = unlimited.sent_messages(PRIVATE)
    assert (record.plain_text, record.edits) == ("v2", ["<b>v1</b>"])
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text("<i>v2</i>", PRIVATE, sent.message_id, parse_mode="HTML")
    with pytest.raises(BadRequest, match="Can't parse entities"):
        await bot.edit_message_text("<i>v3", PRIVATE, sent.message_id, parse_mode="HTML")
    assert await bot.delete_message(PRIVATE, sent.message_id)
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("v4", PRIVATE, sent.message_id)
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(PRIVATE, sent.message_id)


async def test_chat_and_member_answers_satisfy_ptb(
    bot: Bot, telegram_api: TelegramEmulator
) -> None:
    telegram_api.add_chat(-1007, "channel", title="Wire")
    chat = await bot.get_chat(-1007)
    assert isinstance(chat, ChatFullInfo)
    assert (chat.type, chat.title) == ("channel", "Wire")
    assert (await bot.get_chat_member(-1007, bot.id)).status == "administrator"
    telegram_api.set_member_status(GROUP, 42, "left")
    assert (await bot.get_chat_member(GROUP, 42)).status == "left"


async def test_strict_chats_refuse_unknown_ids(bot: Bot, telegram_api: TelegramEmulator) -> None:
    telegram_api.strict_chats = True
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(PRIVATE, "x")
    telegram_api.add_chat(PRIVATE)
    await bot.send_message(PRIVATE, "x")


async def test_webhook_receives_updates_with_the_secret(
    bot: Bot, telegram_api: TelegramEmulator
) -> None:
    received: list[tuple[dict[str, Any], str | None]] = []
    arrived = threading.Event()

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((json.loads(body), self.headers.get("X-Telegram-Bot-Api-Secret-Token")))
            self.send_response(200)
            self.end_headers()
            arrived.set()

        def log_message(self, *args: object) -> None:
            pass

    with _serve(Hook) as url:
        await bot.set_webhook(url, secret_token="s3cret")  # noqa: S106
        telegram_api.send_command(PRIVATE, "/start")
        assert await asyncio.to_thread(arrived.wait, 5)
        with pytest.raises(Conflict):
            await bot.get_updates()
        assert (await bot.get_webhook_info()).url == url
        await bot.delete_webhook()
    [(update, secret)] = received
    assert (update["message"]["text"], secret) == ("/start", "s3cret")
    assert telegram_api.pending_updates == []


class _Server(ThreadingHTTPServer):
    daemon_threads = True


class _serve:
    """A tiny loopback HTTP server standing in for the bot's webhook endpoint."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.server = _Server(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def __exit__(self, *exc_info: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


# --------------------------------------------------------------------------- lifecycle and waits
def test_stopping_does_not_wait_for_a_long_poll() -> None:
    emulator = TelegramEmulator().start()
    result: list[httpx.Response] = []
    poller = threading.Thread(
        target=lambda: result.append(_post(emulator, "getUpdates", data={"timeout": "30"}))
    )
    poller.start()
    emulator.wait_for_requests("getUpdates")
    started = time.monotonic()
    emulator.stop()
    poller.join(5)
    assert time.monotonic() - started < 2
    assert result[0].json() == {"ok": True, "result": []}


def test_wait_for_messages_reports_what_it_got_on_timeout(telegram_api: TelegramEmulator) -> None:
    _post(telegram_api, "sendMessage", data={"chat_id": PRIVATE, "text": "only one"})
    assert [m.plain_text for m in telegram_api.wait_for_messages(PRIVATE)] == ["only one"]
    with pytest.raises(TimeoutError, match="only one"):
        telegram_api.wait_for_messages(PRIVATE, count=2, timeout=0.2)


def test_wait_for_messages_wakes_when_another_thread_sends(telegram_api: TelegramEmulator) -> None:
    sender = threading.Thread(
        target=lambda: _post(telegram_api, "sendMessage", data={"chat_id": GROUP, "text": "hi"})
    )
    sender.start()
    [sent] = telegram_api.wait_for_messages(GROUP, timeout=5)
    sender.join(5)
    assert sent.chat_id == GROUP


@pytest.fixture
def emulator_context() -> Iterator[TelegramEmulator]:
    with TelegramEmulator(rate_limits=None) as emulator:
        yield emulator


def test_emulators_run_side_by_side_on_their_own_ports(
    telegram_api: TelegramEmulator, emulator_context: TelegramEmulator
) -> None:
    assert telegram_api.base_url != emulator_context.base_url
    assert _post(emulator_context, "getMe").json()["ok"] is True
