"""JSON Lines in for the command-line tools (`match`, `stories`, `summarize`).

`records` reads lines into validated records (`ItemLine` and the tools' extensions of it); a line
that is not a valid record becomes a `BadLine` (reported, and the lines after it still run), its
problem in plain words ("not valid JSON", "id: must be text in quotes"). A byte-order mark before
the first line is allowed (editors on Windows write one). Reading the file and writing the answer
lines is the command line's edge (`bot.cli.files.run_file`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

Record = TypeVar("Record", bound=BaseModel)


class ItemLine(BaseModel):
    """One item of the tools' JSON Lines: `id`, `title`, `summary`, `lang` (other keys ignored;
    each tool's record adds the fields it reads)."""

    model_config = ConfigDict(extra="ignore")

    id: str | int
    title: str = ""
    summary: str = ""
    lang: str | None = Field(default=None, max_length=35)


@dataclass(frozen=True, slots=True)
class BadLine:
    """A line that is not a valid record: its number (from 1) and the first problem."""

    line: int
    error: str

    def as_json(self) -> dict[str, Any]:
        """The output line that reports it."""
        return {"line": self.line, "error": self.error}


def records(lines: Iterable[str], model: type[Record]) -> Iterator[Record | BadLine]:
    """One record (or `BadLine`) per non-blank line, in order."""
    for number, line in enumerate(lines, start=1):
        if number == 1:
            line = line.removeprefix("\ufeff")  # a UTF-8 byte-order mark
        if not line.strip():
            continue
        try:
            record = model.model_validate_json(line)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"] if not str(p).startswith(_TYPE_TAGS))
            yield BadLine(number, f"{where + ': ' if where else ''}{_plain(first)}")
            continue
        yield record


_TYPE_TAGS = ("str", "int", "float", "bool", "function-")  # pydantic's tags, not fields
_PLAIN = {
    "string_type": "must be text in quotes",
    "missing": "is missing",
    "model_type": "must be a JSON object ({...})",
    "model_attributes_type": "must be a JSON object ({...})",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "datetime_type": "must be a date and time such as 2026-12-07T09:00:00Z",
    "datetime_from_date_parsing": "must be a date and time such as 2026-12-07T09:00:00Z",
    "datetime_parsing": "must be a date and time such as 2026-12-07T09:00:00Z",
}


def _plain(error: Any) -> str:
    """A validation problem in plain words (pydantic's own message when there is none)."""
    kind = str(error["type"])
    if kind == "json_invalid":
        detail = str((error.get("ctx") or {}).get("error", ""))
        at = detail.rfind(" at line ")
        return "not valid JSON" + (f" ({detail[at + 4 :]})" if at >= 0 else "")
    return _PLAIN.get(kind, str(error["msg"]).removeprefix("Value error, "))
