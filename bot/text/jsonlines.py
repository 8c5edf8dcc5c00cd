"""JSON Lines in for the command-line tools (`match`, `stories`, `summarize`).

`records` reads lines into validated records (`ItemLine` and the tools' extensions of it); a line that is not a valid record becomes a
`BadLine` (reported, and the lines after it still run). Reading the file and writing the answer
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
        if not line.strip():
            continue
        try:
            record = model.model_validate_json(line)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            yield BadLine(number, f"{where + ': ' if where else ''}{first['msg']}")
            continue
        yield record
