"""The edited message of a story: the first report's message plus "Also: Outlet B, Outlet C".

Pure. Each later outlet is named once (its first report), linked to its own report, in the order
they reported; the anchor's own outlet is not repeated. The whole stays within Telegram's 4096
UTF-16 units of visible text: outlets that do not fit are counted ("and 3 more").
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.models import StoredItem
from bot.review.listing import outlet_link
from bot.text.markup import TELEGRAM_TEXT_LIMIT, utf16_len, visible_text


def with_also(base_html: str, first: StoredItem, later: Sequence[StoredItem]) -> str:
    """`base_html` (the first report's message) with an "Also:" line for the later outlets."""
    seen = {first.item.source_id}
    outlets = []
    for report in later:
        if report.item.source_id not in seen:
            seen.add(report.item.source_id)
            outlets.append(report)
    for shown in range(len(outlets), 0, -1):
        rest = len(outlets) - shown
        line = "Also: " + ", ".join(outlet_link(r) for r in outlets[:shown])
        if rest:
            line += f" and {rest} more"
        text = f"{base_html}\n\n{line}"
        if utf16_len(visible_text(text)) <= TELEGRAM_TEXT_LIMIT:
            return text
    return base_html
