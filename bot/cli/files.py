"""The JSON Lines edge of `match`, `stories` and `summarize`: FILE (or `-`) in, one line out each.

Exit 0; 1 when some lines were bad (each reported on its own output line, the others still
answered); 2 when the file cannot be read (`bot.cli.exits`).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
from typing import Any, TextIO

from bot.cli.exits import EXIT_BAD_INPUT, EXIT_OK, EXIT_USAGE


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
        return EXIT_USAGE


def _write(outs: Iterable[dict[str, Any]], dst: TextIO) -> int:
    bad = 0
    for out in outs:
        bad += "error" in out
        dst.write(json.dumps(out, ensure_ascii=False) + "\n")
    return EXIT_BAD_INPUT if bad else EXIT_OK
