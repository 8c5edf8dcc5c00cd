"""`/article ID never|short|always`: when the bot fetches the article pages of a source's items.

An operator edit like /interval: checked by `LiveConfig.apply` with the rules of sources.toml,
recorded for /audit and reverted by /undo; operators only, in a private chat (`guarded`). The
handlers come from `make_article_handlers`, to be added before the subscribers' handlers.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from telegram.ext import BaseHandler, CommandHandler, filters

from bot.models import ARTICLE_MODES
from bot.operator.edits import SetArticle
from bot.operator.live import LiveConfig
from bot.telegram.guard import Op, OpHandler, guarded
from bot.telegram.replies import ArgumentError
from bot.text.markup import escape_text

COMMAND = "article"


def article_handler(live: LiveConfig) -> OpHandler:
    """The /article command's handler: read ID and MODE, apply the edit, say what changed."""

    async def article(op: Op) -> str:
        args = op.args()
        if len(args) != 2:
            raise ArgumentError("a source id and a mode are needed")
        source_id, mode = args[0], args[1].lower()
        if mode not in ARTICLE_MODES:
            raise ArgumentError(f"unknown mode {args[1]!r}: use never, short or always")
        result = await live.apply(SetArticle(source_id, mode), actor=op.actor)
        return f"Done: {escape_text(result.summary)}. /undo reverts it."

    return article


def make_article_handlers(
    *, admin_ids: Collection[int], live: LiveConfig
) -> list[BaseHandler[Any, Any, Any]]:
    """The PTB handlers of /article (operators only, as every operator command)."""
    admins = frozenset(admin_ids)
    callback = guarded(COMMAND, article_handler(live), admins)
    return [CommandHandler(COMMAND, callback, filters.UpdateType.MESSAGE)]
