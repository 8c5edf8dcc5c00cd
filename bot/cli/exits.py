"""The exit codes of `python -m bot`, one table for every subcommand.

0 done (a fetch pass that ran is 0 even when sources failed); 1 some input lines were bad
(`match`, `stories`, `summarize`), or the command could not do its job (`run` could not start,
`extract` found no article); 2 configuration or usage error. The `config …` group of the operator
wing answers 0 or 2 with the same meanings (`bot.operator.cli`).
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_BAD_INPUT = 1  # some JSON lines were bad; the others were still answered
EXIT_FAILED = 1  # the command could not do its job: Telegram or the database unreachable
EXIT_CONFIG = 2  # the environment or the config files are wrong
EXIT_USAGE = 2  # an argument is out of range or names nothing, or a file cannot be read
