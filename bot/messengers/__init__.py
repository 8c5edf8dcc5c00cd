"""Where flagged items go: the `Messenger` protocol and the console messenger.

The pipeline announces through a `Messenger` (`base`); without a Telegram token, `console`
prints each flagged item. Telegram's messenger lives in `bot.telegram.messenger`.

May import: `bot.models`, `bot.text.formatting` and the pure core.

Entry points: `base.Messenger`, `console.ConsoleMessenger`.
"""
