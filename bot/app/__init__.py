"""The composition root: builds every part once from the config, runs them, closes them in reverse.

`main` holds the lifecycle of `run` and `fetch --once` (`run_bot`, `fetch_once`, `open_runtime`);
`telegram` and `web` wire the Telegram and HTTP wings into it; `runtime.Runtime` holds the
long-lived parts; `queries` are the database reads the command line needs (`latest`, `digest`).

May import every wing and `bot.config`; only `bot.cli` imports it.
"""
