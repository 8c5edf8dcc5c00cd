"""Answering a command: long answers split at line boundaries, each part paced and retried.

`split_message` (pure) cuts Telegram HTML into parts of at most 4096 UTF-16 units of visible
text (`bot.text.markup`'s count), at line breaks; a single line too long for one message is cut at
its last space that fits, else between characters, never inside a tag or an entity. Tags open
at a cut are closed at the end of one part and opened again at the start of the next.

`Replier.reply` sends the parts in order through the same `Pacer` as the delivery worker, so
answers and announcements to one chat share its per-chat and overall budget. A refusal is
handled as the delivery worker does: 429 pauses the chat in the pacer for `retry_after`, then
the part is sent again; 5xx, timeouts and network errors are retried after 1, 2, 4… seconds
(`attempts` in all); "can't parse entities" sends the part's plain text instead; anything else
(blocked, chat not found, …) is raised as the `DeliveryError` for the caller to log.

A reply may wait (a chat's pacing, a 429's `retry_after`): handlers that use it should be
registered with `block=False`, so that PTB, which otherwise runs updates one at a time, keeps
answering other chats meanwhile.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
import time
from collections.abc import Awaitable, Callable

from telegram import Bot, LinkPreviewOptions, Message
from telegram.constants import ParseMode

from bot.errors import (
    DeliveryError,
    RetryLaterError,
    TransientDeliveryError,
    UnparsableMessageError,
)
from bot.telegram.messenger import send_text
from bot.telegram.pacing import Pacer
from bot.text.markup import TELEGRAM_TEXT_LIMIT, utf16_len, visible_text

log = logging.getLogger(__name__)

_TOKEN = re.compile(r"<[^>]*>|&#?\w+;|.", re.DOTALL)
_TAG = re.compile(r"<(/?)([a-zA-Z][\w-]*)")
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


# ----------------------------------------------------------------- splitting (pure)


def _width(token: str) -> int:
    if token.startswith("<") and token.endswith(">") and len(token) > 1:
        return 0
    if token.startswith("&") and token.endswith(";") and len(token) > 2:
        return utf16_len(html.unescape(token))
    return utf16_len(token)


def _cut_line(tokens: list[str], limit: int) -> list[list[str]]:
    """A line's tokens in pieces of at most `limit` visible units, cut at spaces where possible."""
    pieces: list[list[str]] = []
    start, width, space = 0, 0, -1  # space: index after the last space in the current piece
    i = 0
    while i < len(tokens):
        w = _width(tokens[i])
        if width + w > limit and i > start:
            end = space if space > start else i
            pieces.append(tokens[start:end])
            start, width, space = end, sum(_width(t) for t in tokens[end:i]), -1
            continue
        width += w
        if tokens[i] in (" ", "\t"):
            space = i + 1
        i += 1
    pieces.append(tokens[start:])
    return pieces


def _track(stack: list[tuple[str, str]], tokens: list[str]) -> None:
    """Update the open-tag stack (name, opening tag) with a piece's tags."""
    for token in tokens:
        m = _TAG.match(token)
        if m is None or not token.endswith(">"):
            continue
        name = m.group(2).lower()
        if not m.group(1):
            stack.append((name, token))
        elif any(n == name for n, _ in stack):
            while stack and stack.pop()[0] != name:
                pass


def split_message(markup: str, limit: int = TELEGRAM_TEXT_LIMIT) -> list[str]:
    """Parts of `markup`, each within `limit` visible UTF-16 units; blank parts are dropped."""
    if utf16_len(visible_text(markup)) <= limit:
        return [markup] if visible_text(markup).strip() else []
    pieces: list[list[str]] = []
    for line in markup.split("\n"):
        pieces.extend(_cut_line(_TOKEN.findall(line), limit))
    parts: list[str] = []
    stack: list[tuple[str, str]] = []
    current: list[str] = []  # pieces of the part being built, as markup
    width = 0
    for piece in pieces:
        w = sum(_width(t) for t in piece)
        if current and width + 1 + w > limit:
            parts.append("\n".join(current) + "".join(f"</{n}>" for n, _ in reversed(stack)))
            current, width = [], 0
        text = "".join(piece)
        if not current:
            current, width = ["".join(t for _, t in stack) + text], w
        else:
            current.append(text)
            width += 1 + w
        _track(stack, piece)
    parts.append("\n".join(current))
    return [p for p in parts if visible_text(p).strip()]


# ----------------------------------------------------------------- sending


class Replier:
    """Sends command answers: split, paced with the delivery worker's `Pacer`, retried."""

    def __init__(
        self,
        bot: Bot,
        pacer: Pacer,
        *,
        attempts: int = 5,
        backoff: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._bot = bot
        self._pacer = pacer
        self._attempts = attempts
        self._backoff = backoff
        self._monotonic = monotonic
        self._sleep = sleep

    async def reply(self, chat_id: int, markup: str, *, thread_id: int | None = None) -> list[int]:
        """Send `markup` (Telegram HTML) to the chat (and forum topic); the message ids."""
        return [await self._send_part(chat_id, part, thread_id) for part in split_message(markup)]

    async def _send_part(self, chat_id: int, part: str, thread_id: int | None) -> int:
        html_mode, failures = True, 0
        while True:
            await self._turn(chat_id)
            try:
                return await self._send(chat_id, part, html=html_mode, thread_id=thread_id)
            except RetryLaterError as exc:
                # The pacer holds this chat back; replies and deliveries alike wait it out.
                self._pacer.pause(chat_id, exc.retry_after, self._monotonic())
                log.info("chat %d: reply flood-limited for %.0f s", chat_id, exc.retry_after)
            except UnparsableMessageError:
                if not html_mode:
                    raise
                log.warning("chat %d: reply refused as HTML; sending it as plain text", chat_id)
                html_mode, part = False, visible_text(part)
            except TransientDeliveryError as exc:
                failures += 1
                if failures >= self._attempts:
                    raise
                delay = min(30.0, self._backoff * 2.0 ** (failures - 1))
                log.info("chat %d: reply failed (%s); again in %.1f s", chat_id, exc, delay)
                await self._sleep(delay)

    async def _turn(self, chat_id: int) -> None:
        # The pacer says exactly how long to wait (ASYNC110: not a busy loop).
        while (wait := self._pacer.acquire(chat_id, self._monotonic())) > 0:
            await self._sleep(wait)

    async def _send(self, chat_id: int, text: str, *, html: bool, thread_id: int | None) -> int:
        try:
            return await send_text(
                self._bot, chat_id, text, html=html, thread_id=thread_id, previews=_NO_PREVIEW
            )
        finally:
            self._pacer.release(self._monotonic())


async def send_reply(
    message: Message, text: str, replier: Replier | None, *, thread_id: int | None
) -> None:
    """Answer in the command's chat and forum topic, through the replier when there is one."""
    if replier is None:
        # reply_text keeps the forum topic of the command (PTB reads is_topic_message).
        await message.reply_text(text, parse_mode=ParseMode.HTML, link_preview_options=_NO_PREVIEW)
        return
    try:
        await replier.reply(message.chat_id, text, thread_id=thread_id)
    except DeliveryError as exc:
        log.warning("chat %s: the answer could not be sent: %s", message.chat_id, exc)
