"""Where flagged items go: the console by default, Telegram when a token is set."""
