"""`rollout demo` runs both of its releases for real and says they behaved as intended."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.terraform.support import terraform_binary


def test_demo_runs_a_release_that_succeeds_and_one_an_alarm_rolls_back() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "rollout", "demo"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "release 1 succeeded: demo-api:live serves version 2 (as intended)" in done.stdout
    assert "release 2 rolled_back: demo-api:live serves version 2 (as intended)" in done.stdout
    assert "rolling back: alarm demo-api-errors (ALARM: demo: error rate above 1%" in done.stdout


def test_demo_runs_the_terraform_stage_when_terraform_is_on_path() -> None:
    beside = str(Path(terraform_binary()).parent)
    with_terraform = {**os.environ, "PATH": f"{beside}{os.pathsep}{os.environ['PATH']}"}
    without = {**os.environ, "PATH": os.pathsep.join(("/usr/bin", "/bin"))}

    shown = _demo(with_terraform)
    hidden = _demo(without)

    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert "terraform outputs: api_function_name = demo-api" in shown.stdout
    assert hidden.returncode == 0, hidden.stdout + hidden.stderr
    assert "no terraform on PATH" in hidden.stdout and "terraform outputs" not in hidden.stdout


def _demo(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rollout", "demo"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
