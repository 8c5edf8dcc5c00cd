"""Parts are wired at construction: nothing in bot/ assigns an attribute of another object.

A part gets everything it needs when it is built (docs/decisions.md, issue 16). The scan reads
every module of bot/ and reports each assignment (`x.attr = …`, `x.attr += …`, `setattr(x, …)`)
whose target is not `self` or `cls`. The few left are values a function builds or is handed by a
library's API to fill in, listed below with the reason; anything else fails the test.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parents[1] / "bot"

# (module, the object assigned to): why it is not a built part patched from outside.
ALLOWED: dict[tuple[str, str], str] = {
    ("storage/engine.py", "dbapi_connection"): "SQLAlchemy's connect event hands over the new "
    "DBAPI connection to be configured",
    ("storage/outbox_sends.py", "other"): "the entries of one write batch, settled by its flush",
    ("storage/source_state.py", "pending"): "the entries of one write batch, settled by its flush",
    ("storage/retention.py", "totals"): "a tally the function itself builds",
    (
        "telegram/app.py",
        "record",
    ): "a logging filter redacts the record it is given (logging's API)",
    ("telegram/delivery_sends.py", "attempt"): "the send attempt the function builds and fills",
    ("telegram/replies.py", "lexer"): "configuring the shlex lexer just built (shlex's API)",
    ("web/atom.py", "node"): "filling an ElementTree node just built (ElementTree's API)",
    ("web/metrics.py", "self._gauges"): "the collector it owns",
}


def assignments(source: str) -> list[tuple[int, str]]:
    """(line, object) of every attribute assignment to an object other than `self` or `cls`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "setattr"
            and node.args
        ):
            found.append((node.lineno, ast.unparse(node.args[0])))
        for target in targets:
            for sub in ast.walk(target):
                if isinstance(sub, ast.Attribute) and isinstance(sub.ctx, ast.Store):
                    owner = ast.unparse(sub.value)
                    if owner not in {"self", "cls"}:
                        found.append((node.lineno, owner))
    return found


def test_no_part_is_patched_from_outside() -> None:
    patched = [
        f"bot/{path.relative_to(BOT)}:{line}: {owner}.…"
        for path in sorted(BOT.rglob("*.py"))
        if "migrations" not in path.parts
        for line, owner in assignments(path.read_text())
        if (str(path.relative_to(BOT)), owner) not in ALLOWED
    ]
    assert patched == []


def test_every_allowed_assignment_still_exists() -> None:
    """An entry whose assignment is gone must go too, so the list stays short and true."""
    present = {
        (str(path.relative_to(BOT)), owner)
        for path in BOT.rglob("*.py")
        for _, owner in assignments(path.read_text())
    }
    assert set(ALLOWED) - present == set()


@pytest.mark.parametrize(
    ("source", "owner"),
    [
        ("scheduler.on_report = hook", "scheduler"),
        ("rt.pipeline.matcher = m", "rt.pipeline"),
        ("self.server.routes.webhook = hook", "self.server.routes"),
        ("messenger.target: Messenger = console", "messenger"),
        ("web.count += 1", "web"),
        ("setattr(pipeline, 'matcher', m)", "pipeline"),
    ],
)
def test_the_scan_sees_a_part_patched_from_outside(source: str, owner: str) -> None:
    assert assignments(source) == [(1, owner)]


def test_the_scan_lets_a_part_set_its_own_attributes() -> None:
    assert assignments("self.matcher = m\ncls.count = 0\nx = 1") == []
