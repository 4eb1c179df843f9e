"""`rollout` run as its own process, as an operator's terminal or a CI job runs it."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path


def rollout_command(command: str, plan: Path, endpoint: str, *more: str) -> list[str]:
    """`rollout COMMAND -f PLAN --endpoint-url ENDPOINT MORE...` for subprocess."""
    return [
        sys.executable,
        "-m",
        "rollout",
        command,
        "-f",
        str(plan),
        "--endpoint-url",
        endpoint,
        *more,
    ]


def wait_until(condition: Callable[[], bool], seconds: float = 30.0) -> None:
    """Poll `condition` every 50 ms; fail the test after `seconds`."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)
