"""Messages to the bot's operators (BOT_ADMIN_IDS) over Telegram: the `Notify` that the operator
wing's alerts (`bot.operator.alerts`) are given, so that wing never imports Telegram."""

from __future__ import annotations

import logging
from collections.abc import Collection

from telegram import Bot, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import TelegramError

log = logging.getLogger(__name__)

_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


async def notify_admins(bot: Bot, admin_ids: Collection[int], text: str) -> int:
    """Send `text` (HTML) to every operator; returns how many got it. Never raises TelegramError."""
    delivered = 0
    for admin_id in sorted(set(admin_ids)):
        try:
            await bot.send_message(
                admin_id, text, parse_mode=ParseMode.HTML, link_preview_options=_NO_PREVIEW
            )
        except TelegramError as exc:
            # One operator who blocked the bot must not keep the alert from the others.
            log.warning("could not alert operator %s: %s", admin_id, exc)
        else:
            delivered += 1
    return delivered


class AdminNotifier:
    """`notify_admins` bound to a bot and its operators: a `bot.operator.alerts.Notify`."""

    def __init__(self, bot: Bot, admin_ids: Collection[int]) -> None:
        self.bot = bot
        self.admin_ids = admin_ids

    async def __call__(self, text: str) -> int:
        """Send `text` (HTML) to every operator; how many got it (0, logged, with none set)."""
        if not self.admin_ids:
            log.warning("no BOT_ADMIN_IDS: an operator alert was not sent")
            return 0
        return await notify_admins(self.bot, self.admin_ids, text)
