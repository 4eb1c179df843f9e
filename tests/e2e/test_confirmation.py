"""`apply` on a terminal shows the plan and asks first; a real pseudo-terminal stands in for one."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.test_apply import lambda_plan
from tests.e2e.world import World


def run_on_terminal(arguments: list[str], answer: str, cwd: Path) -> tuple[int, str]:
    """Run rollout with a pseudo-terminal as stdin and stdout, typing `answer` at the prompt."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "rollout", *arguments],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        cwd=cwd,
        close_fds=True,
    )
    os.close(follower)
    output = b""
    deadline = time.monotonic() + 60
    answered = False
    while time.monotonic() < deadline:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the process closed the terminal
            break
        if not chunk:
            break
        output += chunk
        if not answered and b"Apply this plan?" in output:
            os.write(leader, answer.encode() + b"\n")
            answered = True
    os.close(leader)
    return process.wait(30), output.decode("utf-8", "replace")


@pytest.mark.parametrize(
    ("answer", "exit_code", "routing"), [("n", 1, ("1", {})), ("y", 0, ("2", {}))]
)
def test_apply_on_a_terminal_shows_the_plan_and_acts_only_on_yes(
    aws_endpoint: str, tmp_path: Path, answer: str, exit_code: int, routing: object
) -> None:
    world = World(aws_endpoint)
    world.function("api")
    world.alarm("api-errors")
    plan = lambda_plan(tmp_path, "AllAtOnce")

    arguments = ["apply", "-f", str(plan), "--endpoint-url", aws_endpoint]
    code, output = run_on_terminal(arguments, answer, tmp_path)

    assert code == exit_code, output
    assert "api: lambda api:live, AllAtOnce" in output
    # What `rollout plan` shows, read from AWS: who acts, what serves now, what is published.
    assert "rollout plan 'e2e' (live)" in output
    assert "us-east-1: account 123456789012 as" in output
    assert "us-east-1 / api: serves 1" in output
    assert "publish:" in output and "alarm api-errors: OK" in output
    assert world.lambda_routing("api") == routing
