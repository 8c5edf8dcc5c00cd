"""JSON Lines in and out for the command-line tools (`match`, `stories`, `summarize`).

`records` reads lines into validated records; a line that is not a valid record becomes a
`BadLine` (reported, and the lines after it still run). `run_file` is the commands' shared edge:
FILE, or `-` for standard input, in; one JSON line out per result; exit 0, 1 when some lines
were bad, 2 when the file cannot be read.
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
    except OSError as exc:
        print(f"cannot read {path}: {exc.strerror}", file=sys.stderr)
        return EXIT_UNREADABLE


def _write(outs: Iterable[dict[str, Any]], dst: TextIO) -> int:
    bad = 0
    for out in outs:
        bad += "error" in out
        dst.write(json.dumps(out, ensure_ascii=False) + "\n")
    return EXIT_BAD_INPUT if bad else EXIT_OK
