"""Malformed plans: each is refused with located one-line errors, exit 1 and no traceback.

Each file in tests/plans/bad marks the line it expects an error on with a
comment `# <- error: TEXT`; a few files that cannot hold a comment are listed below.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support import PLANS, run_cli

BAD = PLANS / "bad"
UNMARKED = {
    "empty.yaml": (1, "the file is empty"),
    "only_comments.yaml": (1, "the file is empty"),
    "syntax_unclosed_bracket.yaml": (4, "invalid YAML"),
    "alias_bomb.yaml": (8, "alias bomb"),
}
MARKER = re.compile(r"#\s*<- error:\s*(.+)$")


def expected_errors(path: Path) -> list[tuple[int, str]]:
    """(line, text) pairs the file announces in its `# <- error:` comments."""
    if path.name in UNMARKED:
        return [UNMARKED[path.name]]
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = MARKER.search(line)
        if match:
            found.append((number, match.group(1).strip()))
    return found


BAD_FILES = sorted(BAD.glob("*.yaml"))


def test_the_corpus_is_large_and_every_file_says_what_it_expects() -> None:
    assert len(BAD_FILES) >= 30
    for path in BAD_FILES:
        assert expected_errors(path), f"{path.name} marks no expected error"


@pytest.mark.parametrize("path", BAD_FILES, ids=lambda p: p.stem)
def test_bad_plan_is_refused_with_a_located_message(path: Path) -> None:
    result = run_cli(["validate", "-f", str(path)])

    assert result.exit_code == 1
    assert "Traceback" not in result.stdout + result.stderr
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert error_lines, result.stderr
    for line in error_lines:
        assert line.startswith(f"error: {path}:"), line
    for number, text in expected_errors(path):
        located = [line for line in error_lines if line.startswith(f"error: {path}:{number}:")]
        assert any(text in line for line in located), (
            f"expected {text!r} on line {number}, got:\n{result.stderr}"
        )


@pytest.mark.parametrize(
    "name", ["python_object_tag.yaml", "alias_bomb.yaml", "tab_indentation.yaml"]
)
def test_bad_plan_from_a_real_process_prints_no_traceback(name: str) -> None:
    process = subprocess.run(
        [sys.executable, "-m", "rollout", "validate", "-f", str(BAD / name)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert process.returncode == 1
    assert "Traceback" not in process.stderr
    assert f"{BAD / name}:" in process.stderr
    assert process.stdout == ""


def test_hostile_tag_is_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    plan = tmp_path / "rollout.yaml"
    plan.write_text(
        f"version: 1\nname: x\nregions: [us-east-1]\n"
        f'targets: !!python/object/apply:os.system ["touch {marker}"]\n',
        encoding="utf-8",
    )
    result = run_cli(["validate", "-f", str(plan)])
    assert result.exit_code == 1
    assert not marker.exists()


def test_missing_plan_file_is_a_located_error(tmp_path: Path) -> None:
    result = run_cli(["validate", "-f", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 1
    assert f"{tmp_path / 'nope.yaml'}:1:1: no such file" in result.stderr


@pytest.mark.parametrize(
    ("value", "column", "message"),
    [
        ("ord\x00ers", 10, "a control character U+0000 is not allowed"),
        ('"ord\x07ers"', 11, "a control character U+0007 is not allowed"),
        # Multi-byte text before it: the column counts characters, as an editor does.
        ("'ordé\x1bers'", 12, "a control character U+001B is not allowed"),
        ("ord\ufffeers", 10, "the character U+FFFE is not allowed"),
    ],
    ids=["nul", "bell", "escape-after-accent", "noncharacter"],
)
def test_control_character_is_a_located_error_not_an_internal_one(
    write_plan: Any, value: str, column: int, message: str
) -> None:
    path = write_plan(f"version: 1\r\nname: {value}\nregions: [us-east-1]\n")

    result = run_cli(["validate", "-f", str(path)])

    assert result.exit_code == 1
    assert "Traceback" not in result.stderr
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert error_lines == [f"error: {path}:2:{column}: {message} in a YAML file; remove it"]
