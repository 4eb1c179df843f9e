"""Paths around the happy path, found by using rollout as an operator and a CI job would.

`rollout` runs as its own process against moto's server; the tests read what
AWS reports, the exit codes and the files left behind.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from rollout.sandbox import package
from tests.crashes import KillPoint, Release, one_fast_one_slow
from tests.e2e.world import World
from tests.processes import rollout_command, wait_until

TWO_SPEEDS = one_fast_one_slow("30s")
LINEAR_FLOW = "{type: linear, percent: 10, interval: 1s}"


@pytest.fixture
def release(aws_endpoint: str, tmp_path: Path) -> Release:
    made = Release.create(aws_endpoint, tmp_path)
    made.plan.write_text(TWO_SPEEDS)
    return made


def run_in(
    release: Release, command: str, plan: str, *more: str
) -> subprocess.CompletedProcess[str]:
    """`rollout COMMAND -f PLAN MORE...` run in the release's folder, as an operator types it."""
    return subprocess.run(
        rollout_command(command, Path(plan), release.endpoint, *more),
        cwd=release.folder,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_plan_piped_on_stdin_keeps_its_record_where_the_plan_file_finds_it(
    release: Release,
) -> None:
    # `cat rollout.yaml | rollout apply -f /dev/stdin`, killed with flow at its canary.
    process = subprocess.Popen(
        rollout_command("apply", Path("/dev/stdin"), release.endpoint, "--yes"),
        cwd=release.folder,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    assert process.stdin is not None
    process.stdin.write(release.plan.read_bytes())
    process.stdin.close()
    wait_until(
        lambda: (
            process.poll() is not None
            or release.world.sfn_routing(release.machine) == {"1": 80, "2": 20}
        )
    )
    assert process.poll() is None, "apply ended before flow reached its canary"
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(30)

    status = run_in(release, "status", "rollout.yaml")
    rollback = run_in(release, "rollback", "rollout.yaml")

    assert status.returncode == 5, status.stdout + status.stderr
    assert rollback.returncode == 0, rollback.stdout + rollback.stderr
    assert release.at_old(), release.routings()
    assert release.state()["status"] == "rolled_back"


def test_plan_after_a_killed_apply_says_apply_would_refuse_its_unfinished_record(
    aws_endpoint: str, tmp_path: Path
) -> None:
    # Killed with both aliases on the new version, during the last bake: AWS alone looks done.
    release = Release.create(aws_endpoint, tmp_path)
    release.kill_apply_at(KillPoint("weight_shifted", nth=2, target="flow"))
    assert release.at_new()

    plan = run_in(release, "plan", "rollout.yaml", "--detailed-exitcode")
    apply = run_in(release, "apply", "rollout.yaml", "--yes")

    assert apply.returncode == 4, apply.stdout + apply.stderr
    assert plan.returncode == 1, plan.stdout + plan.stderr
    assert "never finished" in plan.stdout + plan.stderr


def test_a_state_folder_deleted_under_a_running_rollout_gets_its_lock_back_so_abort_works(
    release: Release,
) -> None:
    # flow moves 10% every second: each move is written to the store, as a long release's are.
    release.plan.write_text(
        TWO_SPEEDS.replace("{type: canary, percent: 20, interval: 30s}", LINEAR_FLOW)
    )
    process = subprocess.Popen(
        rollout_command("apply", release.plan, release.endpoint, "--yes"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_until(lambda: release.world.sfn_routing(release.machine) == {"1": 90, "2": 10})
        # As a workspace cleanup (`git clean -fdx`) running beside the release would do.
        shutil.rmtree(release.folder / ".rollout")
        wait_until((release.folder / ".rollout" / "crash.lock").exists, seconds=10)

        abort = run_in(release, "abort", str(release.plan))

        assert abort.returncode == 0, abort.stdout + abort.stderr
        assert process.wait(30) == 3
        assert release.at_old(), release.routings()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)


def two_region_release(endpoint: str, folder: Path) -> tuple[World, World]:
    """Function `api` with alarm `api-errors` in us-east-1 and eu-west-1; `v2.zip` to release."""
    worlds = (World(endpoint), World(endpoint, "eu-west-1"))
    for world in worlds:
        world.function("api")
        world.alarm("api-errors")
    (folder / "v2.zip").write_bytes(package("v2"))
    return worlds


def test_a_region_waiting_for_its_turn_in_a_wave_does_not_start_after_a_peer_failed(
    aws_endpoint: str, tmp_path: Path
) -> None:
    # One wave of two regions, one at a time: us-east-1's smoke test fails, so the release is
    # known bad before eu-west-1's turn comes.
    east, west = two_region_release(aws_endpoint, tmp_path)
    plan = tmp_path / "rollout.yaml"
    plan.write_text(
        "version: 1\nname: wave\nregions: [us-east-1, eu-west-1]\nparallelism: 1\n"
        "targets:\n  - name: api\n"
        "    lambda: {function: api, alias: live, code: {zip: v2.zip}}\n"
        "    strategy: AllAtOnce\n    alarms: [api-errors]\n"
        "    hooks: {after_traffic: {command: 'test {region} != us-east-1'}}\n"
        "alarms: {poll_interval: 0.1s, bake: 0.1s}\n"
    )

    done = subprocess.run(
        rollout_command("apply", plan, aws_endpoint, "--yes"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert east.lambda_routing("api") == ("1", {})
    assert west.lambda_routing("api") == ("1", {}), done.stdout
    assert done.returncode == 3, done.stdout + done.stderr
    assert "eu-west-1: region skipped" in done.stdout


def test_a_peer_failing_under_on_wave_failure_rollback_stops_the_wave_before_it_goes_further(
    aws_endpoint: str, tmp_path: Path
) -> None:
    # Both regions of one wave start together; us-east-1's smoke test fails. The plan says a
    # failure rolls every region back, so eu-west-1 must not go on towards 100% (a 30 s
    # canary) only to be put back after: it is stopped and rolled back at once.
    worlds = two_region_release(aws_endpoint, tmp_path)
    plan = tmp_path / "rollout.yaml"
    plan.write_text(
        "version: 1\nname: peers\nregions: [us-east-1, eu-west-1]\nparallelism: 2\n"
        "on_wave_failure: rollback\n"
        "targets:\n  - name: api\n"
        "    lambda: {function: api, alias: live, code: {zip: v2.zip}}\n"
        "    strategy: {type: canary, percent: 10, interval: 30s}\n    alarms: [api-errors]\n"
        "    hooks:\n"
        "      before_traffic: {command: 'test {region} = eu-west-1 || (sleep 0.5; false)'}\n"
        "alarms: {poll_interval: 0.1s}\n"
    )

    done = subprocess.run(
        [*rollout_command("apply", plan, aws_endpoint, "--yes"), "--output", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    events = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    west = [e for e in events if e.get("region") == "eu-west-1"]
    assert all(e["weight"] < 100 for e in west if e["event"] == "weight_shifted"), done.stdout
    ended = next(e for e in west if e["event"] == "region_finished")
    assert ended["outcome"] == "rolled_back"
    assert "us-east-1" in ended["message"] and "on_wave_failure" in ended["message"]
    assert all(w.lambda_routing("api") == ("1", {}) for w in worlds)
    assert done.returncode == 3, done.stdout + done.stderr
