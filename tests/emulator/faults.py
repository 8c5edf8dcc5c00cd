"""Error answers of the Telegram emulator: `ApiError`, injectable `Fault`s, and request readers.

`Fault` builds the answers tests inject (`TelegramEmulator.inject`): 429 with `retry_after`,
5xx, blocked/kicked 403s, group migration, HTML parse errors, slow answers. The parameter readers
raise `ApiError` with Telegram's own wording when a request is malformed. Re-exported by
`tests.emulator.server`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)


class ApiError(Exception):
    """An error answer: HTTP status, Telegram description and optional `parameters`."""

    def __init__(
        self, status: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.status, self.description, self.parameters = status, description, parameters

    def body(self) -> dict[str, Any]:
        """The JSON body Telegram sends with this error."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


@dataclass(frozen=True, slots=True)
class Fault:
    """An injected answer; `delay` seconds first; with `proceed` the request then runs normally."""

    status: int = 200
    description: str = ""
    parameters: dict[str, Any] | None = None
    delay: float = 0.0
    proceed: bool = False

    @classmethod
    def retry_after(cls, seconds: int = 1) -> Fault:
        """429 Too Many Requests with `retry_after`."""
        return cls(429, f"Too Many Requests: retry after {seconds}", {"retry_after": seconds})

    @classmethod
    def server_error(cls, status: int = 500) -> Fault:
        """A 5xx answer (500 Internal Server Error, 502 Bad Gateway, ...)."""
        text = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}
        return cls(status, text.get(status, "Server Error"))

    @classmethod
    def blocked(cls) -> Fault:
        """403: the user blocked the bot."""
        return cls(403, "Forbidden: bot was blocked by the user")

    @classmethod
    def kicked(cls) -> Fault:
        """403: the bot was removed from the group."""
        return cls(403, "Forbidden: bot was kicked from the group chat")

    @classmethod
    def chat_not_found(cls) -> Fault:
        """400 Bad Request: chat not found."""
        return cls(400, "Bad Request: chat not found")

    @classmethod
    def migrated(cls, new_chat_id: int) -> Fault:
        """400: the group became a supergroup with `new_chat_id`."""
        return cls(
            400,
            "Bad Request: group chat was upgraded to a supergroup chat",
            {"migrate_to_chat_id": new_chat_id},
        )

    @classmethod
    def cant_parse(cls, detail: str = 'Unsupported start tag "x" at byte offset 0') -> Fault:
        """400 can't parse entities."""
        return cls(400, f"Bad Request: can't parse entities: {detail}")

    @classmethod
    def slow(cls, seconds: float) -> Fault:
        """Answer normally, but only after `seconds` (for client timeout tests)."""
        return cls(delay=seconds, proceed=True)


@dataclass(slots=True)
class FaultSlot:
    """An injected fault waiting for matching requests (`TelegramEmulator.inject`)."""

    fault: Fault
    chat_id: int | str | None  # None: any request
    remaining: int | None  # None: until cleared
    methods: frozenset[str] | None


def int_param(params: dict[str, Any], name: str) -> int | None:
    """An integer parameter (None if absent); a 400 as Telegram words it if it is not one."""
    value = params.get(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiError(400, f"Bad Request: invalid {name} specified") from None


def json_param(params: dict[str, Any], name: str) -> Any:
    """A JSON-serialized parameter, decoded (form posts send it as a string); 400 if malformed."""
    value = params.get(name)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise ApiError(400, f"Bad Request: can't parse {name} JSON object") from None
    return value


def chat_key(value: Any) -> int | str:
    """A chat_id parameter: an int, or an "@username"; 400 "chat not found" otherwise."""
    if isinstance(value, str) and value.startswith("@"):
        return value
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiError(400, "Bad Request: chat not found") from None
