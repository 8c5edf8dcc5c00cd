"""bot.cli.files and bot.text.jsonlines: the JSON Lines edge of `match`, `stories` and `summarize`: a byte-order mark
is accepted, a file that cannot be read is one line on stderr (exit 2), a bad line is said in
plain words. Real files in tmp_path; the commands' own reader (`records`) judges the lines."""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from bot.cli.exits import EXIT_BAD_INPUT, EXIT_OK
from bot.cli.exits import EXIT_USAGE as EXIT_UNREADABLE
from bot.cli.files import run_file
from bot.text.jsonlines import BadLine, records


class Line(BaseModel):
    id: str
    title: str


def echo(lines: Iterable[str]) -> Iterable[dict[str, Any]]:
    for record in records(lines, Line):
        yield record.as_json() if isinstance(record, BadLine) else {"id": record.id}


def run(path: Path | str, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[Any], str]:
    out = io.StringIO()
    code = run_file(str(path), echo, stdout=out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    return code, lines, capsys.readouterr().err


def test_a_utf8_file_with_a_byte_order_mark_is_read(tmp_path: Path, capsys):
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + b'{"id": "a", "title": "x"}\n{"id": "b", "title": "y"}\n')
    assert run(path, capsys) == (EXIT_OK, [{"id": "a"}, {"id": "b"}], "")


def test_bad_lines_are_said_in_plain_words(tmp_path: Path, capsys):
    path = tmp_path / "bad.jsonl"
    path.write_text('nope\n{"id": 5, "title": "x"}\n{"title": "x"}\n[1]\n', encoding="utf-8")
    code, lines, _ = run(path, capsys)
    assert code == EXIT_BAD_INPUT
    assert lines == [
        {"line": 1, "error": "not valid JSON (line 1 column 2)"},
        {"line": 2, "error": "id: must be text in quotes"},
        {"line": 3, "error": "id: is missing"},
        {"line": 4, "error": "must be a JSON object ({...})"},
    ]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: None, "No such file or directory"),
        (lambda p: p.mkdir(), "it is a folder, not a file"),
        (lambda p: p.write_bytes(b'{"id": "a", "title": "\xe9t\xe9"}\n'), "not UTF-8 text"),
        (lambda p: p.write_bytes(b""), "the file is empty"),
    ],
)
def test_a_file_that_cannot_be_read_is_one_line_and_exit_2(tmp_path: Path, capsys, make, message):
    path = tmp_path / "in.jsonl"
    make(path)
    code, _lines, err = run(path, capsys)
    assert code == EXIT_UNREADABLE
    assert err.count("\n") == 1
    assert err.startswith(f"cannot read {path}: ")
    assert message in err
