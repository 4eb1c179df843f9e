"""`rollout demo` runs both of its releases for real and says they behaved as intended."""

from __future__ import annotations

import subprocess
import sys


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
    assert "rolling back: alarm demo-api-errors (ALARM)" in done.stdout
