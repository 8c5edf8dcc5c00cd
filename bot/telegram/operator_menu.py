"""What operators are shown of their commands: the /help and /start section, and their menu.

An operator's `/help` and `/start` (in a private chat with the bot) list the operator commands
below the subscribers'; `set_operator_menus` sets the command menu of each operator's private
chat (setMyCommands with `BotCommandScopeChat`) to every command, the operator ones included,
while everyone else keeps the default menu. An operator who never opened a chat with the bot
makes Telegram answer "chat not found": that menu is skipped with one warning, the rest are set.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence

from telegram import Bot, BotCommand, BotCommandScopeChat
from telegram.error import TelegramError

from bot.telegram.replies import ADMIN_COMMANDS
from bot.text.markup import escape_text

log = logging.getLogger(__name__)


def operator_help(commands: Sequence[tuple[str, str]] = ADMIN_COMMANDS) -> str:
    """The operator commands section of /help (HTML), one usage line each."""
    lines = ["<b>Operator commands</b> (only you see these)"]
    lines += [escape_text(usage) for _, usage in commands]
    return "\n".join(lines)


def operator_menu(
    everyone: Sequence[tuple[str, str]], operators: Sequence[tuple[str, str]] = ADMIN_COMMANDS
) -> list[BotCommand]:
    """Everyone's commands, then the operator ones (each name once, descriptions cut to 256)."""
    seen: set[str] = set()
    menu: list[BotCommand] = []
    for name, text in (*everyone, *operators):
        if name not in seen:
            seen.add(name)
            menu.append(BotCommand(name, text[:256]))
    return menu


async def set_operator_menus(
    bot: Bot, operator_ids: Collection[int], menu: Sequence[BotCommand]
) -> int:
    """Set `menu` as the command menu of each operator's private chat; how many were set."""
    done = 0
    for user_id in sorted(operator_ids):
        try:
            # In a private chat the chat id is the user's id.
            await bot.set_my_commands(list(menu), scope=BotCommandScopeChat(user_id))
        except TelegramError as exc:
            log.warning(
                "operator %s: could not set the operator command menu (%s); has the operator "
                "opened a chat with the bot? /help still lists the commands there",
                user_id,
                exc,
            )
            continue
        done += 1
    return done
