"""The text core: one copy of each text rule, pure (no I/O, no clock).

`markup` (Telegram's HTML subset, UTF-16 lengths), `clean` (markup stripping, mojibake, boilerplate:
the one cleaning path of the pipeline and `match`), `formatting` (how an item reads in Telegram
HTML, on the console and as plain text), `durations` ("10m"/"2h"), `jsonlines` (JSON Lines in and
out for `match`, `stories` and `summarize`).

May import `bot.models`, `bot.errors` and the standard library only.
"""
