"""Test helpers: running the CLI as a user would, in-process; where the test data lives."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from rollout.cli import main

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PLANS = Path(__file__).resolve().parent / "plans"


@dataclass(frozen=True)
class CliResult:
    """What a user sees: exit code, standard output, standard error."""

    exit_code: int
    stdout: str
    stderr: str


def run_cli(arguments: Sequence[str]) -> CliResult:
    """Run `rollout ARGUMENTS` in-process; unexpected exceptions are not swallowed."""
    result = CliRunner().invoke(main, list(arguments), prog_name="rollout", catch_exceptions=False)
    return CliResult(result.exit_code, result.stdout, result.stderr)
