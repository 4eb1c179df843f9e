"""Output that is not a terminal: never an ANSI byte (unless FORCE_COLOR), a heartbeat during
waits, the summary at the end, and no heartbeat in JSON."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.e2e.test_apply import lambda_plan
from tests.e2e.world import World
from tests.support import CliResult, run_cli

HEARTBEAT = re.compile(r"Z us-east-1 api: 50% · step 1/2 · bake \d+s left · alarms OK")


@pytest.fixture(autouse=True)
def plain_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NO_COLOR", "FORCE_COLOR", "CI", "GITHUB_ACTIONS", "JENKINS_URL", "BUILD_URL"):
        monkeypatch.delenv(name, raising=False)


def released(endpoint: str, tmp_path: Path, strategy: str = "AllAtOnce") -> Path:
    world = World(endpoint)
    world.function("api")
    world.alarm("api-errors")
    return lambda_plan(tmp_path, strategy)


def acting(command: str, plan: Path, endpoint: str, *more: str) -> CliResult:
    return run_cli([command, "-f", str(plan), "--endpoint-url", endpoint, *more])


def test_no_ansi_byte_through_a_pipe_from_any_command(aws_endpoint: str, tmp_path: Path) -> None:
    plan = released(aws_endpoint, tmp_path)

    results = [
        acting("plan", plan, aws_endpoint),
        run_cli(["plan", "--offline", "-f", str(plan)]),
        acting("apply", plan, aws_endpoint, "--yes"),
        acting("status", plan, aws_endpoint),
        acting("rollback", plan, aws_endpoint),
    ]

    for result in results:
        assert "\x1b" not in result.stdout + result.stderr, result
    assert results[2].exit_code == 0, results[2]
    assert re.search(r"summary:\n\s+region\s+target\s+version\s+outcome", results[2].stdout)
    assert re.search(r"us-east-1\s+api\s+1 → 2\s+succeeded", results[2].stdout)


def test_force_color_puts_colour_into_a_pipe(
    aws_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = released(aws_endpoint, tmp_path)
    monkeypatch.setenv("FORCE_COLOR", "1")

    preview = run_cli(["plan", "--offline", "-f", str(plan)])
    applied = acting("apply", plan, aws_endpoint, "--yes")
    refused = run_cli(["plan", "--offline", "--no-color", "-f", str(plan)])

    assert "\x1b[" in preview.stdout
    assert applied.exit_code == 0 and "\x1b[32m" in applied.stdout
    assert "\x1b" not in refused.stdout  # --no-color beats FORCE_COLOR


def test_heartbeat_during_a_bake_and_never_in_json(aws_endpoint: str, tmp_path: Path) -> None:
    plan = released(aws_endpoint, tmp_path, "{type: canary, percent: 50, interval: 1.5s}")

    lines = acting("apply", plan, aws_endpoint, "--yes", "--heartbeat", "0.5")

    assert lines.exit_code == 0, lines
    assert HEARTBEAT.search(lines.stdout), lines.stdout

    again = lambda_plan(tmp_path, "{type: canary, percent: 50, interval: 1.5s}", body="v3")
    stream = acting("apply", again, aws_endpoint, "--yes", "--heartbeat", "0.5", "--output", "json")

    assert stream.exit_code == 0, stream
    events = [json.loads(line) for line in stream.stdout.splitlines()]
    assert events[-1]["event"] == "rollout_finished"
    assert "left" not in stream.stdout


def test_heartbeat_must_be_a_number_of_seconds(tmp_path: Path) -> None:
    result = run_cli(["apply", "--yes", "-f", str(tmp_path / "rollout.yaml"), "--heartbeat", "x"])

    assert result.exit_code == 2
    assert "--heartbeat" in result.stderr and "Traceback" not in result.stderr
