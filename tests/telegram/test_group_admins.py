"""Who may /start and /stop: the real PTB Bot asking the emulator's getChatMember, and the cache."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from telegram import Bot, ChatMember, Update

from bot.telegram.group_admins import (
    ADMIN_STATUSES,
    CANNOT_CHECK,
    REFUSAL,
    REFUSAL_AS_CHAT,
    AdminCache,
    may_change_subscription,
)
from tests.emulator.members import member_json
from tests.emulator.server import Fault, TelegramEmulator

GROUP, SUPERGROUP, CHANNEL, PRIVATE = -4001, -1001234, -1009999, 5001
ADMIN, MEMBER, OWNER = 7001, 7002, 7003
ANONYMOUS_ADMIN_BOT = 1087968824  # Telegram's "GroupAnonymousBot", the from of anonymous admins


@pytest.fixture
async def bot(telegram_api: TelegramEmulator) -> AsyncIterator[Bot]:
    telegram_api.configure(rate_limits=None)
    async with Bot(telegram_api.token, base_url=telegram_api.api_url) as b:
        yield b


def command(emu: TelegramEmulator, bot: Bot, chat_id: int, chat_type: str, **kw: Any) -> Update:
    """A /start as Telegram would deliver it, parsed by PTB."""
    update = Update.de_json(emu.send_command(chat_id, "/start", chat_type=chat_type, **kw), bot)
    assert update is not None
    return update


def lookups(emu: TelegramEmulator) -> int:
    return len(emu.requests("getChatMember"))


@pytest.mark.parametrize(("chat_id", "kind"), [(GROUP, "group"), (SUPERGROUP, "supergroup")])
async def test_group_administrators_may_and_members_are_refused_politely(
    telegram_api, bot, chat_id, kind
):
    telegram_api.set_member_status(chat_id, ADMIN, "administrator")
    telegram_api.set_member_status(chat_id, MEMBER, "member")
    cache = AdminCache()
    admin = await may_change_subscription(
        command(telegram_api, bot, chat_id, kind, user_id=ADMIN), bot, cache, 0.0
    )
    member = await may_change_subscription(
        command(telegram_api, bot, chat_id, kind, user_id=MEMBER), bot, cache, 0.0
    )
    assert admin.allowed
    assert not member.allowed
    assert member.refusal == REFUSAL
    assert "administrators" in member.refusal
    asked = [(p["chat_id"], p["user_id"]) for p in telegram_api.requests("getChatMember")]
    assert sorted(asked) == sorted([(str(chat_id), str(ADMIN)), (str(chat_id), str(MEMBER))])


# The emulator answers "restricted" and "kicked" without their required fields (PTB cannot
# parse them), so only "left" is tried here besides "member".
@pytest.mark.parametrize("status", ["left"])
async def test_other_statuses_are_refused(telegram_api, bot, status):
    telegram_api.set_member_status(SUPERGROUP, MEMBER, status)
    update = command(telegram_api, bot, SUPERGROUP, "supergroup", user_id=MEMBER)
    verdict = await may_change_subscription(update, bot, AdminCache(), 0.0)
    assert not verdict.allowed


async def test_private_chats_need_no_lookup(telegram_api, bot):
    update = command(telegram_api, bot, PRIVATE, "private", user_id=PRIVATE)
    assert (await may_change_subscription(update, bot, AdminCache(), 0.0)).allowed
    assert lookups(telegram_api) == 0


async def test_an_anonymous_admin_speaking_as_the_group_is_allowed_without_lookup(
    telegram_api, bot
):
    group = telegram_api.add_chat(SUPERGROUP, "supergroup", title="Newsroom")
    update = command(
        telegram_api,
        bot,
        SUPERGROUP,
        "supergroup",
        user_id=ANONYMOUS_ADMIN_BOT,
        sender_chat=group,
    )
    assert (await may_change_subscription(update, bot, AdminCache(), 0.0)).allowed
    assert lookups(telegram_api) == 0


async def test_a_message_sent_as_another_chat_is_refused(telegram_api, bot):
    channel = telegram_api.add_chat(CHANNEL, "channel", title="Someone's channel")
    update = command(
        telegram_api, bot, SUPERGROUP, "supergroup", user_id=136817688, sender_chat=channel
    )
    verdict = await may_change_subscription(update, bot, AdminCache(), 0.0)
    assert not verdict.allowed
    assert verdict.refusal == REFUSAL_AS_CHAT
    assert lookups(telegram_api) == 0


async def test_a_channel_post_is_allowed(telegram_api, bot):
    update = command(telegram_api, bot, CHANNEL, "channel")
    assert update.channel_post is not None
    assert (await may_change_subscription(update, bot, AdminCache(), 0.0)).allowed


async def test_answers_are_cached_for_the_ttl_then_asked_again(telegram_api, bot):
    telegram_api.set_member_status(SUPERGROUP, ADMIN, "administrator")
    cache = AdminCache(ttl=60.0)
    update = command(telegram_api, bot, SUPERGROUP, "supergroup", user_id=ADMIN)
    for now in (0.0, 10.0, 59.9):
        assert (await may_change_subscription(update, bot, cache, now)).allowed
    assert lookups(telegram_api) == 1
    # Demoted: seen once the cached answer is a minute old.
    telegram_api.set_member_status(SUPERGROUP, ADMIN, "member")
    assert not (await may_change_subscription(update, bot, cache, 60.0)).allowed
    assert lookups(telegram_api) == 2


async def test_when_telegram_cannot_be_asked_the_command_is_refused_and_nothing_cached(
    telegram_api, bot
):
    telegram_api.set_member_status(SUPERGROUP, ADMIN, "administrator")
    telegram_api.inject(SUPERGROUP, Fault.server_error(502), methods=["getChatMember"])
    cache = AdminCache()
    update = command(telegram_api, bot, SUPERGROUP, "supergroup", user_id=ADMIN)
    first = await may_change_subscription(update, bot, cache, 0.0)
    assert not first.allowed
    assert first.refusal == CANNOT_CHECK
    assert (await may_change_subscription(update, bot, cache, 1.0)).allowed
    assert lookups(telegram_api) == 2


def test_the_cache_forgets_the_oldest_entries_past_its_size_and_a_chat_on_request():
    cache = AdminCache(ttl=60.0, size=2)
    cache.put(1, 10, True, 0.0)
    cache.put(1, 11, False, 0.0)
    cache.put(2, 10, True, 0.0)
    assert cache.get(1, 10, 1.0) is None
    assert cache.get(1, 11, 1.0) is False
    assert cache.get(2, 10, 1.0) is True
    cache.forget(1)
    assert cache.get(1, 11, 1.0) is None
    assert cache.get(2, 10, 1.0) is True


@pytest.mark.parametrize(
    ("status", "admin"),
    [
        ("creator", True),
        ("administrator", True),
        ("member", False),
        ("restricted", False),
        ("left", False),
        ("kicked", False),
    ],
)
def test_every_member_status_the_emulator_should_answer_parses_and_ranks(status, admin):
    # tests/emulator/members.py, for the emulator to use (its own answers lack required fields).
    user = {"id": 1, "is_bot": False, "first_name": "A"}
    member = ChatMember.de_json(member_json(status, user), None)
    assert member is not None
    assert (member.status in ADMIN_STATUSES) is admin
