"""`apply` on a terminal shows the plan and asks first; a real pseudo-terminal stands in for one."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import time
from pathlib import Path

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


def test_declining_at_the_prompt_changes_nothing(aws_endpoint: str, tmp_path: Path) -> None:
    world = World(aws_endpoint)
    world.function("api")
    world.alarm("api-errors")
    plan = lambda_plan(tmp_path, "AllAtOnce")

    code, output = run_on_terminal(
        ["apply", "-f", str(plan), "--endpoint-url", aws_endpoint], "n", tmp_path
    )

    assert code == 1
    assert "api: lambda api:live, AllAtOnce" in output and "nothing changed" in output
    assert world.versions("api") == ["1"]


def test_confirming_at_the_prompt_applies(aws_endpoint: str, tmp_path: Path) -> None:
    world = World(aws_endpoint)
    world.function("api")
    world.alarm("api-errors")
    plan = lambda_plan(tmp_path, "AllAtOnce")

    code, output = run_on_terminal(
        ["apply", "-f", str(plan), "--endpoint-url", aws_endpoint], "y", tmp_path
    )

    assert code == 0, output
    assert world.lambda_routing("api") == ("2", {})
