"""Durable state, locks and signals, with `rollout` run as real processes against moto's server.

Each test starts `rollout apply` in its own process group, watches the state
file until the rollout is where the test wants it, then interrupts, kills,
aborts or promotes it from outside, and checks what AWS reports afterwards.
"""

from __future__ import annotations

import json
import os
import pty
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_apply import lambda_plan
from tests.e2e.world import World
from tests.processes import rollout_command, wait_until
from tests.support import run_cli

SLOW_CANARY = "{type: canary, percent: 10, interval: 30s}"


def state(tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / ".rollout" / "e2e.json"
    return json.loads(path.read_text()) if path.exists() else {}


def target_state(tmp_path: Path) -> dict[str, Any]:
    return state(tmp_path).get("regions", {}).get("us-east-1", {}).get("targets", {}).get("api", {})


CI_VARIABLES = ("CI", "GITHUB_ACTIONS", "JENKINS_URL", "BUILD_URL")


def start_apply(
    plan: Path,
    endpoint: str,
    log: Path,
    stdin: int = subprocess.DEVNULL,
    ci: str | None = None,
) -> subprocess.Popen[bytes]:
    """`rollout apply --yes`, run outside CI unless `ci` names one (this suite may run in CI)."""
    environment = {k: v for k, v in os.environ.items() if k not in CI_VARIABLES}
    if ci is not None:
        environment["CI"] = ci
    return subprocess.Popen(
        rollout_command("apply", plan, endpoint, "--yes"),
        stdin=stdin,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env=environment,
    )


def baking_at_10_percent(tmp_path: Path) -> Callable[[], bool]:
    # Step 0 shifts to 10%; once it is recorded done (step 1), the canary is baking.
    return lambda: (
        target_state(tmp_path).get("step", 0) >= 1
        and target_state(tmp_path).get("last", {}).get("additional")
    )


@pytest.fixture
def world(aws_endpoint: str) -> World:
    world = World(aws_endpoint)
    world.function("api")
    world.alarm("api-errors")
    return world


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_signal_mid_rollout_rolls_back_and_exits_3(
    world: World, aws_endpoint: str, tmp_path: Path, signum: int
) -> None:
    plan = lambda_plan(tmp_path, SLOW_CANARY)
    process = start_apply(plan, aws_endpoint, tmp_path / "log")
    wait_until(baking_at_10_percent(tmp_path))
    assert world.lambda_routing("api") == ("1", {"2": Decimal("10.00")})

    os.killpg(process.pid, signum)

    assert process.wait(30) == 3, (tmp_path / "log").read_text()
    assert world.lambda_routing("api") == ("1", {})
    assert state(tmp_path)["status"] == "rolled_back"
    assert not (tmp_path / ".rollout" / "e2e.lock").exists()
    # The last line says which signal, and what it usually means.
    last = (tmp_path / "log").read_text().splitlines()[-1]
    assert f"{signal.Signals(signum).name} received (" in last, last


def test_a_signal_during_a_bake_does_not_wait_for_the_next_alarm_poll(
    world: World, aws_endpoint: str, tmp_path: Path
) -> None:
    plan = lambda_plan(tmp_path, SLOW_CANARY)
    plan.write_text(plan.read_text().replace("poll_interval: 0.1s", "poll_interval: 60s"))
    process = start_apply(plan, aws_endpoint, tmp_path / "log")
    wait_until(baking_at_10_percent(tmp_path))

    os.killpg(process.pid, signal.SIGINT)

    # Far less than the 60 s poll: GitHub Actions kills the job 10 s after its SIGINT.
    assert process.wait(15) == 3, (tmp_path / "log").read_text()
    assert world.lambda_routing("api") == ("1", {})


def stubborn_release(tmp_path: Path) -> Path:
    """A plan whose after_traffic hook ignores being stopped, so rolling back takes seconds."""
    (tmp_path / "stubborn.py").write_text(
        "import signal, time\n"
        "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "open('hook-ready', 'w').close()\ntime.sleep(30)\n"
    )
    hooks = f"    hooks:\n      after_traffic: {{command: '{sys.executable} stubborn.py'}}\n"
    plan = lambda_plan(tmp_path, SLOW_CANARY, extra=hooks)
    plan.write_text(plan.read_text().replace("interval: 30s", "interval: 0.2s"))
    return plan


def test_a_second_ctrl_c_typed_on_a_terminal_stops_at_once_and_says_how_to_finish(
    world: World, aws_endpoint: str, tmp_path: Path
) -> None:
    plan = stubborn_release(tmp_path)
    # stdin is a terminal: the operator is there to type the second Ctrl-C.
    terminal, operator = pty.openpty()
    process = start_apply(plan, aws_endpoint, tmp_path / "log", stdin=terminal)
    wait_until((tmp_path / "hook-ready").exists)  # the hook runs, at 100%, ignoring Ctrl-C

    os.killpg(process.pid, signal.SIGINT)
    time.sleep(0.3)
    os.killpg(process.pid, signal.SIGINT)

    assert process.wait(30) == 4
    os.close(terminal)
    os.close(operator)
    log = (tmp_path / "log").read_text()
    assert "stopped at once" in log and "rollout rollback -f" in log
    assert run_cli(["rollback", "-f", str(plan), "--endpoint-url", aws_endpoint]).exit_code == 0
    assert world.lambda_routing("api") == ("1", {})


def test_two_sigints_to_a_ci_job_with_a_terminal_do_not_abandon_the_rollback(
    world: World, aws_endpoint: str, tmp_path: Path
) -> None:
    # Some CI runners give the job a pseudo-terminal; nobody types there, and a runner that
    # signals twice must not leave the aliases half-shifted.
    plan = stubborn_release(tmp_path)
    terminal, operator = pty.openpty()
    process = start_apply(plan, aws_endpoint, tmp_path / "log", stdin=terminal, ci="true")
    wait_until((tmp_path / "hook-ready").exists)

    os.killpg(process.pid, signal.SIGINT)
    time.sleep(0.3)
    os.killpg(process.pid, signal.SIGINT)

    assert process.wait(30) == 3, (tmp_path / "log").read_text()
    os.close(terminal)
    os.close(operator)
    assert "already rolling back" in (tmp_path / "log").read_text()
    assert world.lambda_routing("api") == ("1", {})


def test_a_cancelled_ci_job_sigint_then_sigterm_does_not_abandon_the_rollback(
    world: World, aws_endpoint: str, tmp_path: Path
) -> None:
    plan = stubborn_release(tmp_path)
    process = start_apply(plan, aws_endpoint, tmp_path / "log")  # no terminal, as in CI
    wait_until((tmp_path / "hook-ready").exists)

    # GitHub Actions: SIGINT, then SIGTERM while rollout is still rolling back.
    os.killpg(process.pid, signal.SIGINT)
    time.sleep(0.3)
    os.killpg(process.pid, signal.SIGTERM)

    assert process.wait(30) == 3, (tmp_path / "log").read_text()
    log = (tmp_path / "log").read_text()
    assert "SIGTERM: already rolling back; the rollback goes on" in log
    assert world.lambda_routing("api") == ("1", {})
    assert state(tmp_path)["status"] == "rolled_back"


def test_ctrl_c_during_a_long_hook_stops_the_hook_and_rolls_back(
    world: World, aws_endpoint: str, tmp_path: Path
) -> None:
    hooks = "    hooks:\n      after_traffic: {command: 'touch hook-ready; sleep 60'}\n"
    plan = lambda_plan(tmp_path, "AllAtOnce", extra=hooks)
    process = start_apply(plan, aws_endpoint, tmp_path / "log")
    wait_until((tmp_path / "hook-ready").exists)

    os.killpg(process.pid, signal.SIGINT)

    assert process.wait(20) == 3, (tmp_path / "log").read_text()
    assert "stopped: the rollout was interrupted" in (tmp_path / "log").read_text()
    assert world.lambda_routing("api") == ("1", {})


def test_a_second_apply_is_refused_naming_the_first(
    world: World, aws_endpoint: str, tmp_path: Path
) -> None:
    plan = lambda_plan(tmp_path, SLOW_CANARY)
    process = start_apply(plan, aws_endpoint, tmp_path / "log")
    try:
        wait_until(baking_at_10_percent(tmp_path))
        second = run_cli(["apply", "--yes", "-f", str(plan), "--endpoint-url", aws_endpoint])
        assert second.exit_code == 4
        assert f"pid {process.pid}" in second.stderr
        status = run_cli(["status", "-f", str(plan), "--endpoint-url", aws_endpoint])
        assert status.exit_code == 5
        assert "us-east-1 api: serves 1: 90%, 2: 10%, shifting at step 1" in status.stdout
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)


def test_abort_from_another_process_rolls_back(
    world: World, aws_endpoint: str, tmp_path: Path
) -> None:
    plan = lambda_plan(tmp_path, SLOW_CANARY)
    process = start_apply(plan, aws_endpoint, tmp_path / "log")
    wait_until(baking_at_10_percent(tmp_path))

    assert run_cli(["abort", "-f", str(plan)]).exit_code == 0

    assert process.wait(30) == 3
    assert world.lambda_routing("api") == ("1", {})


@pytest.mark.parametrize("full", [False, True])
def test_promote_releases_a_manual_pause(
    world: World, aws_endpoint: str, tmp_path: Path, full: bool
) -> None:
    steps = (
        "\n      steps:\n        - {weight: 20, pause: manual}"
        "\n        - {weight: 50, pause: 1h}\n        - {weight: 100}"
    )
    plan = lambda_plan(tmp_path, steps)
    process = start_apply(plan, aws_endpoint, tmp_path / "log")
    wait_until(lambda: world.lambda_routing("api") == ("1", {"2": Decimal("20.00")}))
    wait_until(lambda: target_state(tmp_path).get("paused", False))

    promoted = run_cli(["promote", "-f", str(plan), *(["--full"] if full else [])])
    assert promoted.exit_code == 0, promoted.stdout + promoted.stderr

    if full:
        assert process.wait(30) == 0
        assert world.lambda_routing("api") == ("2", {})
    else:
        wait_until(lambda: world.lambda_routing("api") == ("1", {"2": Decimal("50.00")}))
        os.killpg(process.pid, signal.SIGTERM)
        assert process.wait(30) == 3


def kill_when(process: subprocess.Popen[bytes], condition: Callable[[], bool]) -> None:
    wait_until(condition)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(30)


def test_killed_mid_bake_then_rollback_restores_and_records_it(
    world: World, aws_endpoint: str, tmp_path: Path
) -> None:
    plan = lambda_plan(tmp_path, SLOW_CANARY)
    kill_when(start_apply(plan, aws_endpoint, tmp_path / "log"), baking_at_10_percent(tmp_path))

    first = run_cli(["rollback", "-f", str(plan), "--endpoint-url", aws_endpoint])
    again = run_cli(["rollback", "-f", str(plan), "--endpoint-url", aws_endpoint])

    assert first.exit_code == 0, first.stdout + first.stderr
    assert "us-east-1 api: restored alias to 1: 100%" in first.stdout
    assert "taking over the lock of a process that is no longer running" in first.stderr
    assert again.exit_code == 0, again.stdout + again.stderr
    assert "restored alias" not in again.stdout  # already back: nothing to write
    assert world.lambda_routing("api") == ("1", {})
    assert target_state(tmp_path)["status"] == "rolled_back"


def test_killed_mid_bake_then_resume_finishes_on_the_new_version(
    world: World, aws_endpoint: str, tmp_path: Path
) -> None:
    plan = lambda_plan(tmp_path, "{type: linear, percent: 25, interval: 1s}")
    kill_when(
        start_apply(plan, aws_endpoint, tmp_path / "log"),
        lambda: world.lambda_routing("api") == ("1", {"2": Decimal("50.00")}),
    )

    result = run_cli(["resume", "-f", str(plan), "--endpoint-url", aws_endpoint])

    assert result.exit_code == 0, result.stdout + result.stderr
    assert world.lambda_routing("api") == ("2", {})
    assert state(tmp_path)["status"] == "succeeded"
    assert world.versions("api") == ["1", "2"]  # nothing published twice


def test_drift_before_resume_needs_a_human_and_changes_nothing(
    world: World, aws_endpoint: str, tmp_path: Path
) -> None:
    plan = lambda_plan(tmp_path, SLOW_CANARY)
    kill_when(start_apply(plan, aws_endpoint, tmp_path / "log"), baking_at_10_percent(tmp_path))
    world.lam.update_alias(
        FunctionName="api",
        Name="live",
        FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.33}},
    )

    result = run_cli(["resume", "-f", str(plan), "--endpoint-url", aws_endpoint])

    assert result.exit_code == 4
    assert "changed outside rollout" in result.stdout
    assert world.lambda_routing("api") == ("1", {"2": Decimal("33.00")})
    again = run_cli(["resume", "-f", str(plan), "--endpoint-url", aws_endpoint])
    assert again.exit_code == 4 and "ended: needs_human; nothing to resume" in again.stderr


def test_history_lists_finished_rollouts(world: World, aws_endpoint: str, tmp_path: Path) -> None:
    plan = lambda_plan(tmp_path, "AllAtOnce")
    assert (
        run_cli(["apply", "--yes", "-f", str(plan), "--endpoint-url", aws_endpoint]).exit_code == 0
    )
    listed = run_cli(["history", "-f", str(plan)])
    assert listed.exit_code == 0
    header, row = listed.stdout.splitlines()
    assert header.split()[:4] == ["STARTED", "(UTC)", "ROLLOUT", "OUTCOME"]
    assert " succeeded " in row and " api 1 → 2 " in row
    mode = (tmp_path / ".rollout" / "e2e.json").stat().st_mode & 0o777
    assert mode == 0o600
