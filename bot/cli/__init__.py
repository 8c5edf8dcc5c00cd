"""The command line: `python -m bot COMMAND` and the `media-review-bot` script.

One argparse parser (`parser`), one exit-code table (`exits`), and a module per group of
subcommands: `running` (run, fetch --once, check-config, match), `review` (latest, stories,
digest), `summary` (extract, summarize); `config …` is the operator wing's (`bot.operator.cli`).
`main` sets up logging, loads the config once and dispatches.

May import everything; nothing imports it but `bot.__main__`.
"""

# The installed script names `bot.cli:main` (pyproject.toml); existing installs keep working.
from bot.cli.main import main

__all__ = ["main"]
