"""The command line's rule: a subcommand that fails on bad input says so in one line and exits
non-zero; a traceback is for `--debug` only.

`guarded` runs a subcommand's handler. An expected failure — a `ConfigError` (its problems, one
a line), another `BotError` (the database unreachable or not a database, Telegram away), a file
that cannot be read or written, text that is not UTF-8 — becomes one line on stderr and its
exit code (`bot.cli.exits`). Anything else is a bug: one line naming it and pointing to
`--debug`. With `--debug` every failure is raised, so Python prints the traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from bot.cli.exits import EXIT_CONFIG, EXIT_FAILED, EXIT_USAGE
from bot.errors import BotError, ConfigError


def guarded(run: Callable[[], int], *, debug: bool = False) -> int:
    """`run()`'s exit code, or the code of its failure after one line on stderr."""
    try:
        return run()
    except KeyboardInterrupt:
        return 130  # as a shell reports SIGINT
    except Exception as exc:
        if debug:
            raise
        print(describe(exc), file=sys.stderr)
        return _code(exc)


def describe(exc: BaseException) -> str:
    """The one line (or the few lines of a ConfigError) that tell what went wrong."""
    if isinstance(exc, ConfigError):
        if len(exc.problems) == 1:
            return f"configuration error: {exc.problems[0]}"
        return "configuration error:\n" + "\n".join(f"  - {p}" for p in exc.problems[:20])
    if isinstance(exc, BotError):
        return f"error: {exc}"
    if isinstance(exc, UnicodeDecodeError):
        return (
            f"error: a file is not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8"
        )
    if isinstance(exc, OSError):
        where = f" {exc.filename}" if exc.filename else ""
        return f"error: cannot use{where}: {exc.strerror or exc}"
    first = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
    return (
        f"unexpected error: {type(exc).__name__}{': ' + first if first else ''} "
        "(run again with --debug to see where)"
    )


def _code(exc: BaseException) -> int:
    if isinstance(exc, ConfigError | OSError | UnicodeDecodeError):
        return EXIT_CONFIG if isinstance(exc, ConfigError) else EXIT_USAGE
    return EXIT_FAILED
