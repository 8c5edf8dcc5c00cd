"""JSON Lines in and out for the command-line tools (`match`, `stories`, `summarize`).

`records` reads lines into validated records; a line that is not a valid record becomes a
`BadLine` (reported, and the lines after it still run). `run_file` is the commands' shared edge:
FILE, or `-` for standard input, in; one JSON line out per result; exit 0, 1 when some lines
were bad, 2 when the file cannot be read (missing, a folder, not UTF-8: one line on stderr).
A byte-order mark before the first line is allowed (editors on Windows write one), and a bad
line's problem is said in plain words ("not valid JSON", "id: must be text").
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TextIO, TypeVar

from pydantic import BaseModel, ValidationError

EXIT_OK, EXIT_BAD_INPUT, EXIT_UNREADABLE = 0, 1, 2

Record = TypeVar("Record", bound=BaseModel)


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


def run_file(
    path: str,
    results: Callable[[Iterable[str]], Iterable[dict[str, Any]]],
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
) -> int:
    """Write `results` of the file's lines (or standard input's, for `-`) as JSON Lines."""
    src, dst = stdin or sys.stdin, stdout or sys.stdout
    try:
        if path == "-":
            return _write(results(src), dst)
        with open(path, encoding="utf-8") as fh:
            return _write(results(fh), dst)
    except IsADirectoryError:
        print(f"cannot read {path}: it is a folder, not a file", file=sys.stderr)
        return EXIT_UNREADABLE
    except OSError as exc:
        print(f"cannot read {path}: {exc.strerror}", file=sys.stderr)
        return EXIT_UNREADABLE
    except UnicodeDecodeError as exc:
        print(
            f"cannot read {path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at "
            f"offset {exc.start}); save it as UTF-8",
            file=sys.stderr,
        )
        return EXIT_UNREADABLE


def _write(outs: Iterable[dict[str, Any]], dst: TextIO) -> int:
    bad = 0
    for out in outs:
        bad += "error" in out
        dst.write(json.dumps(out, ensure_ascii=False) + "\n")
    return EXIT_BAD_INPUT if bad else EXIT_OK
