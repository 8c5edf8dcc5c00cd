"""The layout holds: wings documented, sizes kept, the import contract strict, the package installable.

See docs/architecture.md. These tests read the source tree and build the package; they do not
run the bot.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BOT = REPO / "bot"
WINGS = sorted(p.parent.name for p in BOT.glob("*/__init__.py"))
# Modules that are mostly tables of data may be longer (none today).
LONG_MODULES_ALLOWED: frozenset[str] = frozenset()
MAX_MODULE_LINES = 420  # "about 400": split anything past it
MAX_FUNCTION_LINES = 80
MAX_CLASS_LINES = 200


def _sources() -> list[Path]:
    return sorted(p for p in BOT.rglob("*.py") if "migrations" not in p.parts)


def test_every_wing_starts_with_a_docstring_that_says_what_it_may_import() -> None:
    assert {"feeds", "topics", "storage", "telegram", "operator"} <= set(WINGS)
    for wing in WINGS:
        doc = ast.get_docstring(ast.parse((BOT / wing / "__init__.py").read_text()))
        assert doc, f"bot/{wing}/__init__.py has no docstring"
        assert "import" in doc.lower(), f"bot/{wing}'s docstring does not say what it may import"


def test_no_module_over_about_400_lines() -> None:
    long = {
        str(p.relative_to(REPO)): n
        for p in _sources()
        if (n := p.read_text().count("\n")) > MAX_MODULE_LINES
        and str(p.relative_to(REPO)) not in LONG_MODULES_ALLOWED
    }
    assert long == {}


def test_no_function_over_80_lines() -> None:
    long = {}
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long[f"{path.relative_to(REPO)}:{node.name}"] = lines
    assert long == {}


def test_no_class_over_200_lines() -> None:
    long = {}
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_CLASS_LINES:
                    long[f"{path.relative_to(REPO)}:{node.name}"] = lines
    assert long == {}


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    linter = Path(sys.executable).with_name("lint-imports")
    return subprocess.run(
        [str(linter), "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.skipif(
    importlib.util.find_spec("importlinter") is None, reason="import-linter is not installed"
)
@pytest.mark.parametrize(
    ("module", "bad_import"),
    [
        ("bot/topics/matcher.py", "import bot.telegram.app"),  # the pure core reaching up
        ("bot/storage/items.py", "import bot.feeds.parse"),  # two independent wings
        ("bot/text/formatting.py", "import httpx"),  # I/O in the pure core
    ],
)
def test_the_import_contract_fails_on_an_import_that_runs_back_up(
    tmp_path: Path, module: str, bad_import: str
) -> None:
    shutil.copytree(BOT, tmp_path / "bot", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    assert _lint_imports(tmp_path).returncode == 0, "the untouched tree must pass"
    target = tmp_path / module
    target.write_text(target.read_text() + f"\n{bad_import}  # noqa\n")
    result = _lint_imports(tmp_path)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout


MIGRATE_FROM_INSTALL = """
import asyncio, sys
import bot
from bot.storage.engine import make_engine, migrate
from sqlalchemy import text
assert bot.__file__.startswith(sys.argv[1]), bot.__file__

async def main() -> None:
    engine = make_engine(sys.argv[2])
    await migrate(engine)
    async with engine.connect() as conn:
        print((await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar_one())
    await engine.dispose()

asyncio.run(main())
"""


def test_a_non_editable_install_finds_its_migrations_and_upgrades_an_old_database(
    tmp_path: Path,
) -> None:
    from alembic import command
    from alembic.script import ScriptDirectory

    from bot.storage.engine import alembic_config

    site = tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation"]
    subprocess.run(
        [*pip, "--no-index", "--target", str(site), str(REPO)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    assert not (site / "bot" / "storage" / "migrations" / "versions").is_symlink()
    # A database left at revision 0003 by the bot before the wings moved.
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    command.upgrade(alembic_config(url.replace("sqlite://", "sqlite+aiosqlite://")), "0003")
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    done = subprocess.run(
        [sys.executable, "-c", MIGRATE_FROM_INSTALL, str(site), url],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == head
