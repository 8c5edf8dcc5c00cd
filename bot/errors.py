"""The bot's exception tree.

    BotError
    ├── ConfigError              bad settings, sources.toml or topics.toml (lists every problem)
    ├── FetchError               a source could not be fetched
    │   ├── TransientFetchError  worth retrying soon: timeouts, 5xx, 429, connection errors
    │   └── PermanentFetchError  retrying will not help until someone acts: 404, not a feed, too big
    ├── ParseError               the body was fetched but holds no readable feed
    ├── StoreError               the database refused or failed
    └── DeliveryError            a message could not be delivered
        ├── RetryLaterError          flood control (429): wait `retry_after` seconds, then resend
        ├── TransientDeliveryError   network error, timeout, 5xx: resend after a backoff
        ├── ChatUnavailableError     blocked, kicked, chat not found: counted, then deactivated
        ├── ChatMigratedError        the group became a supergroup: resend to `new_chat_id`
        └── MessageRejectedError     Telegram refuses this message for good: drop it
            └── UnparsableMessageError  "can't parse entities": resend as plain text

Foreign exceptions (httpx, SQLAlchemy, telegram) are translated into these once, at their edge.
"""

from __future__ import annotations

from collections.abc import Sequence


class BotError(Exception):
    """Base of every error this package raises on purpose."""


class ConfigError(BotError):
    """One or more configuration problems; `problems` lists each with its file, entry and field."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(self.problems) or "invalid configuration")


class FetchError(BotError):
    """A source could not be fetched; `reason` is short and safe to show to an operator."""

    def __init__(
        self,
        reason: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.reason = reason
        self.status = status
        self.retry_after = retry_after
        super().__init__(reason)


class TransientFetchError(FetchError):
    """Worth retrying after a backoff: timeouts, connection errors, 5xx, 429."""


class PermanentFetchError(FetchError):
    """Retrying soon will not help: 4xx, an HTML page instead of a feed, an oversized body."""


class ParseError(BotError):
    """The body holds nothing that can be read as a feed."""


class StoreError(BotError):
    """The database failed; the operation was rolled back."""


class DeliveryError(BotError):
    """A message could not be delivered to a chat."""


class RetryLaterError(DeliveryError):
    """Flood control: this chat must wait `retry_after` seconds (Telegram's) before the resend."""

    def __init__(self, reason: str, *, retry_after: float) -> None:
        self.retry_after = retry_after
        super().__init__(reason)


class TransientDeliveryError(DeliveryError):
    """A network error, timeout or 5xx: the same message is worth resending after a backoff."""


class ChatUnavailableError(DeliveryError):
    """The bot cannot write to the chat (blocked, kicked, chat not found); may be temporary."""


class ChatMigratedError(DeliveryError):
    """The group was upgraded to a supergroup, which has the id `new_chat_id`."""

    def __init__(self, reason: str, *, new_chat_id: int) -> None:
        self.new_chat_id = new_chat_id
        super().__init__(reason)


class MessageRejectedError(DeliveryError):
    """Telegram refuses this message (a permanent Bad Request): resending it will not help."""


class UnparsableMessageError(MessageRejectedError):
    """Telegram could not parse the message's entities; the plain-text form may still go."""
