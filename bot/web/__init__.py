"""The HTTP wing: health, Prometheus metrics, per-topic Atom feeds, a status page, WebSub.

What it does: `server.WebServer` is one tornado application (tornado comes with PTB's webhooks
extra), started on `BOT_HTTP_PORT` and, in webhook mode, on `PORT` beside the Telegram webhook.
Paths: `GET /healthz` (`health`), `GET /metrics` (`metrics`), `GET /topics/{id}.atom` (`atom`,
pure), `GET /` (`status`, Jinja2 templates in `templates/`), `GET|POST /websub/{callback}`
(`websub`), and the webhook path when `app` hands one over (`handlers.TelegramWebhook`).

What it may import: `bot.models`, `bot.errors`, `bot.storage`, `bot.polling.pipeline`, `bot.polling.scheduler`
(records and stores), `bot.review.listing` and `bot.text.markup` (how a story is named and linked,
as /latest shows it), never `bot.config` (settings arrive as arguments from `bot.app`) and never
its sibling `bot.telegram` (the webhook sink and the delivery recorder are plain callables).

Entry points: `bot.app` builds `Metrics`, `Health`, `StatusPage`, `WebSub` and a `WebServer` from
them; `WebServer.start(binds)` listens, `WebServer.stop()` closes. Nothing it serves holds a
secret or operator-only data (no token, admin ids or chat ids).
"""
