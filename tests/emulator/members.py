"""Full `ChatMember` objects for the emulator's getChatMember, one per status (to be wired in).

The emulator's `_api_getchatmember` answers "creator", "restricted" and "kicked" without the fields
Telegram always sends for them, so PTB cannot parse those answers (ChatMemberOwner needs
`is_anonymous`, ChatMemberRestricted its `can_*` flags and `until_date`, ChatMemberBanned
`until_date`). `member_json(status, user)` builds a complete object; wiring, in server.py:
`return member_json(status, user)` in place of its last four lines.
"""

from __future__ import annotations

from typing import Any

from tests.emulator.records import ADMIN_RIGHTS

_RESTRICTED_RIGHTS = (
    "can_send_messages", "can_send_audios", "can_send_documents", "can_send_photos",
    "can_send_videos", "can_send_video_notes", "can_send_voice_notes", "can_send_polls",
    "can_send_other_messages", "can_add_web_page_previews", "can_change_info",
    "can_invite_users", "can_pin_messages", "can_manage_topics", "can_edit_tag",
    "can_react_to_messages",
)  # fmt: skip


def member_json(status: str, user: dict[str, Any]) -> dict[str, Any]:
    """A `ChatMember` of `status` (creator, administrator, member, restricted, left, kicked)."""
    member: dict[str, Any] = {"status": status, "user": user}
    if status == "administrator":
        member.update(ADMIN_RIGHTS)
    elif status == "creator":
        member["is_anonymous"] = False
    elif status == "restricted":
        member.update(dict.fromkeys(_RESTRICTED_RIGHTS, False))
        member.update(is_member=True, until_date=0)
    elif status == "kicked":
        member["until_date"] = 0
    return member
