"""The media review: stories across outlets, their listing, the edit text, the daily review.

Pure logic (no I/O, no clock: times are passed in). May import `bot.models`, `bot.errors`,
`bot.markup`, `bot.durations`, `bot.topics` and `bot.formatting`; storage reaches it only through
protocols that `bot.app` wires. Entry points: `stories.Grouper` (grouping), `jsonl.story_lines`
(`python -m bot stories`), `listing` (`/latest`, `python -m bot latest`), `also` (the edited
message), `digest` (the daily review).
"""
