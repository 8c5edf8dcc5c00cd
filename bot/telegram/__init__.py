"""Everything that speaks Telegram: the PTB application, commands, delivery and pacing.

`app` builds and runs the PTB Application (polling or webhook) on our loop; `commands` and
`texts` are the subscribers' commands; `admin/` the operators' (guarded by `guard`, texts in
`replies`), `channels` adds and removes channels; `delivery` drains the outbox through
`messenger` (telegram.Bot with errors translated) under `pacing`'s limits.

May import: every lower wing (`operator`, `pipeline`, `storage`, `feeds`, `topics`, the pure
core). Nothing imports it but `bot.app`.

Entry points: `app.build_application`, `commands.make_handlers`, `admin.make_admin_handlers`,
`delivery.DeliveryWorker`.
"""
