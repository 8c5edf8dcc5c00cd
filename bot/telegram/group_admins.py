"""Who may change a chat's subscription (/start, /stop): anyone in private, only admins in groups.

Rules, in order:
1. a private chat: its user;
2. a channel post: allowed (only a channel's administrators can post in it);
3. a group or supergroup message sent on behalf of the group itself (`sender_chat` is the chat):
   an anonymous administrator, allowed; sent on behalf of another chat (a user posting as their
   channel, a linked channel's automatic forward): refused, nobody to check;
4. otherwise the sender's status from `getChatMember`: "creator" or "administrator" may.

Answers of `getChatMember` are kept `ttl` seconds (`AdminCache`), so a burst of commands costs
one request, and a promotion or demotion takes effect within a minute. If Telegram cannot be
asked, the command is refused with a "try again" text and nothing is cached.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass

from telegram import Bot, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError

log = logging.getLogger(__name__)

ADMIN_STATUSES = frozenset({ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR})
REFUSAL = (
    "Only this group's administrators can start or stop its subscription. Please ask one of them."
)
REFUSAL_AS_CHAT = (
    "Only this group's administrators can start or stop its subscription; "
    "please send the command from your own account."
)
CANNOT_CHECK = (
    "I could not check whether you are an administrator of this group. "
    "Please try again in a minute."
)


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether the sender may change the subscription; `refusal` is the polite reply if not."""

    allowed: bool
    refusal: str = ""


ALLOWED = Verdict(True)


class AdminCache:
    """(chat, user) → is an administrator, for `ttl` seconds; at most `size` entries."""

    def __init__(self, ttl: float = 60.0, size: int = 10_000) -> None:
        self.ttl = ttl
        self._size = size
        self._entries: OrderedDict[tuple[int, int], tuple[bool, float]] = OrderedDict()

    def get(self, chat_id: int, user_id: int, now: float) -> bool | None:
        """The cached answer, or None when unknown or older than `ttl`."""
        entry = self._entries.get((chat_id, user_id))
        if entry is None or entry[1] <= now:
            return None
        return entry[0]

    def put(self, chat_id: int, user_id: int, admin: bool, now: float) -> None:
        """Remember an answer until `now + ttl`; the oldest entries go first when full."""
        key = (chat_id, user_id)
        self._entries.pop(key, None)
        self._entries[key] = (admin, now + self.ttl)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)

    def forget(self, chat_id: int) -> None:
        """Drop every answer about `chat_id` (e.g. when the bot learns its admins changed)."""
        for key in [k for k in self._entries if k[0] == chat_id]:
            del self._entries[key]


async def may_change_subscription(
    update: Update, bot: Bot, cache: AdminCache, now: float
) -> Verdict:
    """Whether the sender of `update` may /start or /stop the chat's subscription (see module)."""
    chat, message = update.effective_chat, update.effective_message
    if chat is None or message is None:
        return Verdict(False, REFUSAL)
    if chat.type == ChatType.PRIVATE:
        return ALLOWED
    if chat.type == ChatType.CHANNEL or update.channel_post is not None:
        return ALLOWED
    if message.sender_chat is not None:
        return ALLOWED if message.sender_chat.id == chat.id else Verdict(False, REFUSAL_AS_CHAT)
    user = message.from_user
    if user is None:
        return Verdict(False, REFUSAL)
    known = cache.get(chat.id, user.id, now)
    if known is None:
        try:
            member = await bot.get_chat_member(chat.id, user.id)
        except TelegramError as exc:
            log.warning("chat %s: cannot check the sender's status: %s", chat.id, exc)
            return Verdict(False, CANNOT_CHECK)
        known = member.status in ADMIN_STATUSES
        cache.put(chat.id, user.id, known, now)
    return ALLOWED if known else Verdict(False, REFUSAL)
