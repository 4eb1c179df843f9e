"""The terminal's live view under a real pseudo-terminal, and plain lines everywhere else."""

from __future__ import annotations

import os
import pty
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.e2e.test_apply import lambda_plan
from tests.e2e.world import World

COLOUR = re.compile(rb"\x1b\[[0-9;]*m")
CANARY = "{type: canary, percent: 50, interval: 1s}"


def clean_env(**more: str) -> dict[str, str]:
    """This process's environment without anything that would change the view (CI, colour)."""
    dropped = ("CI", "GITHUB_ACTIONS", "JENKINS_URL", "BUILD_URL", "NO_COLOR", "FORCE_COLOR")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    return env | {"TERM": "xterm-256color", "COLUMNS": "160"} | more


def run_on_pty(
    arguments: list[str],
    cwd: Path,
    env: dict[str, str],
    stop_reading: Callable[[bytes], bool] = lambda _output: False,
    interrupt_when: Callable[[bytes], bool] = lambda _output: False,
) -> tuple[int, bytes]:
    """Run rollout with a pseudo-terminal as stdout and stderr; read until it exits (or until
    `stop_reading` says to close the terminal); Ctrl-C once when `interrupt_when` says so."""
    leader, follower = pty.openpty()
    os.set_inheritable(follower, True)
    process = subprocess.Popen(
        [sys.executable, "-m", "rollout", *arguments],
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=follower,
        cwd=cwd,
        env=env,
    )
    os.close(follower)
    output, interrupted = b"", False
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # every writer has gone: the process ended
            break
        if not chunk:
            break
        output += chunk
        if stop_reading(output):
            break
        if not interrupted and interrupt_when(output):
            process.send_signal(signal.SIGINT)
            interrupted = True
    os.close(leader)
    return process.wait(30), output


def released_world(endpoint: str) -> World:
    world = World(endpoint)
    world.function("api")
    world.alarm("api-errors")
    return world


def apply_arguments(plan: Path, endpoint: str) -> list[str]:
    return ["apply", "--yes", "-f", str(plan), "--endpoint-url", endpoint]


def test_live_view_shows_rows_steps_countdown_and_a_summary(
    aws_endpoint: str, tmp_path: Path
) -> None:
    world = released_world(aws_endpoint)
    plan = lambda_plan(tmp_path, CANARY)

    code, raw = run_on_pty(apply_arguments(plan, aws_endpoint), tmp_path, clean_env())

    text = raw.decode("utf-8", "replace")
    plain = COLOUR.sub(b"", raw).decode("utf-8", "replace")
    assert code == 0, text
    assert world.lambda_routing("api") == ("2", {})
    assert re.search(r"us-east-1\s+api\s", plain), plain
    assert "1/2" in plain and "2/2" in plain
    assert re.search(r"bake \d+s left", plain), plain
    assert re.search(r"1 ██████████ 2\s+100%", plain), plain
    # The summary table stays after the live area is gone.
    assert "summary" in plain
    assert re.search(r"us-east-1\s+│\s+api\s+│\s+1 → 2\s+│\s+succeeded", plain), plain
    assert COLOUR.search(raw), "colour on a terminal by default"
    assert "\x1b[" in text and "\x1b[2K" in text  # redrawn in place


def test_no_color_on_a_terminal_keeps_the_view_without_colour(
    aws_endpoint: str, tmp_path: Path
) -> None:
    released_world(aws_endpoint)
    plan = lambda_plan(tmp_path, CANARY)

    code, raw = run_on_pty(apply_arguments(plan, aws_endpoint), tmp_path, clean_env(NO_COLOR="1"))

    assert code == 0, raw.decode("utf-8", "replace")
    assert b"summary" in raw and b"1/2" in raw
    assert not COLOUR.search(raw), raw  # cursor movement may remain, colour may not


def test_dumb_terminal_gets_plain_lines(aws_endpoint: str, tmp_path: Path) -> None:
    released_world(aws_endpoint)
    plan = lambda_plan(tmp_path, CANARY)

    code, raw = run_on_pty(apply_arguments(plan, aws_endpoint), tmp_path, clean_env(TERM="dumb"))

    text = raw.decode("utf-8", "replace")
    assert code == 0, text
    assert "\x1b" not in text
    assert re.search(r"Z us-east-1 api: step 1/2: shifted to 50%", text), text
    assert re.search(r"summary:\r?\n\s+region\s+target\s+version\s+outcome", text), text


def test_closed_terminal_does_not_stop_the_rollout(aws_endpoint: str, tmp_path: Path) -> None:
    world = released_world(aws_endpoint)
    plan = lambda_plan(tmp_path, CANARY)

    code, raw = run_on_pty(
        apply_arguments(plan, aws_endpoint),
        tmp_path,
        clean_env(),
        stop_reading=lambda output: b"1/2" in output,  # close the terminal mid-run
    )

    assert code == 0, raw.decode("utf-8", "replace")
    assert world.lambda_routing("api") == ("2", {})


def test_ctrl_c_rolls_back_and_the_view_shows_it(aws_endpoint: str, tmp_path: Path) -> None:
    world = released_world(aws_endpoint)
    plan = lambda_plan(tmp_path, "{type: canary, percent: 50, interval: 3s}")

    code, raw = run_on_pty(
        apply_arguments(plan, aws_endpoint),
        tmp_path,
        clean_env(NO_COLOR="1"),
        interrupt_when=lambda output: b"1/2" in output,
    )

    text = raw.decode("utf-8", "replace")
    assert code == 3, text
    assert world.lambda_routing("api") == ("1", {})
    assert "SIGINT: rolling back what is in flight" in text
    assert re.search(r"Z us-east-1: rolling back: \S", text), text  # kept above the view
    assert re.search(r"us-east-1\s+│\s+api\s+│\s+1 → 2\s+│\s+rolled back", text), text
