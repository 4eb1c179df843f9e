"""A manual pause tells a human: the on_pause hook gets the promote command, and it works.

`rollout apply` runs as a GitHub Actions step would (its own process, the summary file
set) against moto's server; the test plays the human who receives the notice.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
from decimal import Decimal
from pathlib import Path

from tests.e2e.test_apply import lambda_plan
from tests.e2e.world import World
from tests.processes import rollout_command, wait_until
from tests.support import run_cli

PAUSED = "\n      steps:\n        - {weight: 20, pause: manual}\n        - {weight: 100}"
NOTICE = "    hooks:\n      on_pause: {command: 'echo {promote_command} >> notice.txt'}\n"


def test_the_on_pause_command_hook_hands_over_the_command_that_releases_the_pause(
    aws_endpoint: str, tmp_path: Path
) -> None:
    world = World(aws_endpoint)
    world.function("api")
    world.alarm("api-errors")
    plan = lambda_plan(tmp_path, PAUSED, extra=NOTICE)
    summary, log, notice = tmp_path / "summary.md", tmp_path / "log", tmp_path / "notice.txt"
    environment = {**os.environ, "GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
    process = subprocess.Popen(
        rollout_command("apply", plan, aws_endpoint, "--yes"),
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        env=environment,
        start_new_session=True,
    )
    try:
        wait_until(notice.exists)
        wait_until(lambda: "paused" in summary.read_text() if summary.exists() else False)
        wait_until(lambda: "paused: run" in log.read_text())
        assert world.lambda_routing("api") == ("1", {"2": Decimal("20.00")})

        (line,) = notice.read_text().splitlines()  # once, however many polls the pause lasts
        words = shlex.split(line)
        assert words[:2] == ["rollout", "promote"]
        assert words[2:] == ["-f", str(plan), "--region", "us-east-1", "--target", "api"]
        promoted = run_cli(words[1:])
        assert promoted.exit_code == 0, promoted.stdout + promoted.stderr

        assert process.wait(30) == 0, log.read_text()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(30)
    assert world.lambda_routing("api") == ("2", {})
    assert notice.read_text().splitlines() == [line]
    assert f"us-east-1 api: paused: run `{line}`" in log.read_text()
    assert f"::notice title=rollout us-east-1 api%3A paused::run `{line}`" in log.read_text()
    assert f"waits at a manual pause: run `{line}`" in summary.read_text()
