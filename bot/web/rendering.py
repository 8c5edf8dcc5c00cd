"""The one Jinja environment setup of the HTML pages (the status page, search): the templates in
`bot/web/templates`, autoescaped (strings rendered from templates too), whitespace trimmed."""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, select_autoescape


def environment() -> Environment:
    """A Jinja environment over the package's templates."""
    return Environment(
        loader=PackageLoader("bot.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
