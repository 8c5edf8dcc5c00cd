"""`/addchannel` and `/removechannel`: make a channel (or group) where the bot may post a delivery target.

A channel is named by `@username` or its numeric id; `getChat` resolves it, `getChatMember` checks
the bot is an admin allowed to post there (when Telegram lets us check; a failed check is logged
and does not block). The subscription goes into the chat store like a subscriber's, with the
operator as `added_by`, and the change is written to LiveConfig's audit trail (`record`).

`undo_last_change` is /undo: it reverts the newest change in force, whether a config edit (through
`LiveConfig.undo`) or a channel added or removed (here: the chat's topics go back to what they
were before, and the change is marked undone with an "undo" row naming it, as config undos are).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from telegram import Bot
from telegram import ChatFullInfo as TgChat
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError

from bot.errors import ConfigError
from bot.storage.chats import ChatStore
from bot.storage.overlay import ChangeRow, OverlayStore
from bot.telegram.replies import b, code, problems_text
from bot.text.markup import escape_text

log = logging.getLogger(__name__)

_ADMIN_STATUSES = (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)
ADD, REMOVE = "add channel", "remove channel"  # the audit actions of the two commands
_UNDO_WINDOW = 500  # newest audit rows searched for the change to undo


class Recorder(Protocol):
    """What is needed of LiveConfig: its audit trail for changes it does not own."""

    async def record(
        self, *, actor: str, action: str, target: str, before: Any, after: Any
    ) -> int: ...


class Undoer(Protocol):
    """What is needed of LiveConfig to undo a config edit."""

    async def undo(self, *, actor: str) -> Any: ...


async def add_channel(
    bot: Bot,
    target: str,
    topics: Sequence[str],
    *,
    chat_store: ChatStore,
    live: Recorder,
    user_id: int,
    now: datetime,
) -> str:
    """Subscribe the chat named by `target` to `topics` (valid ids); the answer for the operator."""
    chat = await _resolve(bot, target)
    if isinstance(chat, str):
        return chat
    if chat.type == ChatType.PRIVATE:
        return "Not added: that is a person's private chat, not a channel or group."
    refusal = await _check_rights(bot, chat)
    if refusal:
        return refusal
    before = await chat_store.chat(chat.id)
    after = await chat_store.subscribe(
        chat.id,
        kind=chat.type,
        title=chat.title,
        topics=topics,
        thread_id=None,
        now=now,
        added_by=user_id,
    )
    await live.record(
        actor=f"telegram:{user_id}",
        action=ADD,
        target=_chat_label(chat.id, chat.title),
        before=list(before.topics) if before is not None and before.active else None,
        after=list(after.topics),
    )
    return (
        f"{b(chat.title or str(chat.id))} {code(str(chat.id))} now receives: "
        f"{', '.join(code(t) for t in after.topics)}."
    )


async def remove_channel(
    bot: Bot,
    target: str,
    topics: Sequence[str] | None,
    *,
    chat_store: ChatStore,
    live: Recorder,
    user_id: int,
    now: datetime,
) -> str:
    """Unsubscribe the chat from `topics` (None: all); the answer for the operator."""
    if target.lstrip("-").isdigit():
        chat_id = int(target)
    else:
        chat = await _resolve(bot, target)
        if isinstance(chat, str):
            return chat + " Use the numeric id instead (see /audit)."
        chat_id = chat.id
    before = await chat_store.chat(chat_id)
    if before is None or not before.active:
        return f"{code(str(chat_id))} is not a delivery target."
    after = await chat_store.unsubscribe(chat_id, topics=topics, now=now)
    left = list(after.topics) if after is not None and after.active else []
    await live.record(
        actor=f"telegram:{user_id}",
        action=REMOVE,
        target=_chat_label(chat_id, before.title),
        before=list(before.topics),
        after=left or None,
    )
    if left:
        return f"{code(str(chat_id))} still receives: {', '.join(code(t) for t in left)}."
    return f"{code(str(chat_id))} no longer receives anything."


async def undo_last_change(
    *, live: Undoer, overlay: OverlayStore, chat_store: ChatStore, actor: str, now: datetime
) -> str:
    """/undo: revert the newest change in force (config edit or channel); the answer text."""
    latest = _newest_in_force(await overlay.audit(_UNDO_WINDOW))
    if latest is None or latest.edit is not None:
        try:
            result = await live.undo(actor=actor)
        except ConfigError as exc:
            return problems_text("Nothing was undone:", exc.problems)
        return f"Undone: {escape_text(result.summary)}."
    summary = await revert_channel_change(latest, overlay, chat_store, actor=actor, now=now)
    return f"Undone: {escape_text(summary)}."


async def revert_channel_change(
    change: ChangeRow, overlay: OverlayStore, chat_store: ChatStore, *, actor: str, now: datetime
) -> str:
    """Put the chat's topics back as they were before `change`; log the undo; its summary."""
    chat_id = int(change.target.split(" ", 1)[0])
    wanted = list(change.before or [])
    current = await chat_store.chat(chat_id)
    if current is not None and current.active:
        # Drop what the change added (or everything, when the chat was no target before).
        extra = [t for t in current.topics if t not in wanted]
        if extra:
            await chat_store.unsubscribe(chat_id, topics=extra, now=now)
    if wanted:
        await chat_store.subscribe(
            chat_id,
            kind=current.kind if current is not None else "channel",
            title=current.title if current is not None else None,
            topics=wanted,
            thread_id=current.thread_id if current is not None else None,
            now=now,
        )
    summary = f"undo #{change.id} ({change.summary})"
    async with overlay.transaction() as tx:
        await tx.mark_undone(change.id)
        await tx.add(
            at=now,
            actor=actor,
            action="undo",
            target=change.target,
            summary=summary,
            edit=None,
            before=change.after,
            after=change.before,
            undoes=change.id,
        )
    log.info("chat %d: %s by %s", chat_id, summary, actor)
    return summary


def _newest_in_force(rows: Sequence[ChangeRow]) -> ChangeRow | None:
    """The newest row (of `rows`, newest first) that is an edit or channel change not undone."""
    for row in rows:
        if row.undone or row.action == "undo":
            continue
        if row.edit is not None or row.action in (ADD, REMOVE):
            return row
    return None


async def _resolve(bot: Bot, target: str) -> TgChat | str:
    """The chat named by `@name` or a numeric id, or the answer explaining why not."""
    ref: int | str = int(target) if target.lstrip("-").isdigit() else target
    if isinstance(ref, str) and not ref.startswith("@"):
        ref = "@" + ref.removeprefix("https://t.me/")
    try:
        return await bot.get_chat(ref)
    except TelegramError as exc:
        return (
            f"I cannot see {escape_text(target)}: {escape_text(exc.message)}. "
            "Add me to it as an admin first."
        )


async def _check_rights(bot: Bot, chat: TgChat) -> str | None:
    """Why the bot cannot post in `chat`, or None when it can (or when that cannot be checked)."""
    try:
        member = await bot.get_chat_member(chat.id, bot.id)
    except TelegramError as exc:
        log.warning("chat %s: could not check the bot's rights: %s", chat.id, exc)
        return None
    if chat.type == ChatType.CHANNEL and member.status not in _ADMIN_STATUSES:
        return (
            f"Not added: I am not an admin of {escape_text(chat.title or str(chat.id))}. "
            "Make me an admin with the right to post messages, then try again."
        )
    if member.status in (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED):
        return f"Not added: I am not a member of {escape_text(chat.title or str(chat.id))}."
    if chat.type == ChatType.CHANNEL and getattr(member, "can_post_messages", True) is False:
        return "Not added: I am an admin there but may not post messages."
    return None


def _chat_label(chat_id: int, title: str | None) -> str:
    return f"{chat_id} ({title})" if title else str(chat_id)
