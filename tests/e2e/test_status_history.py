"""`status` and `history` as an operator and a script see them, against moto's server.

`apply` runs as its own process where a rollout must be in flight; `status`
(with and without --watch), `promote` and `history` run as a user would.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import subprocess
from pathlib import Path

import pytest

from rollout.aws.lambda_target import code_sha256
from rollout.sandbox import package
from tests.e2e.test_apply import lambda_plan
from tests.e2e.test_state_and_signals import baking_at_10_percent, start_apply, target_state
from tests.e2e.world import World
from tests.processes import rollout_command, wait_until
from tests.support import CliResult, run_cli

MANUAL = "{steps: [{weight: 50, pause: manual}, {weight: 100}]}"


@pytest.fixture
def world(aws_endpoint: str) -> World:
    world = World(aws_endpoint)
    world.function("api")
    world.alarm("api-errors")
    return world


def cli(plan: Path, endpoint: str, command: str, *more: str) -> CliResult:
    return run_cli([command, "-f", str(plan), "--endpoint-url", endpoint, *more])


def test_status_during_a_bake_says_how_long_it_has_left(
    world: World, aws_endpoint: str, tmp_path: Path
) -> None:
    plan = lambda_plan(tmp_path, "{type: canary, percent: 10, interval: 5m}")
    process = start_apply(plan, aws_endpoint, tmp_path / "log")
    try:
        wait_until(baking_at_10_percent(tmp_path))
        wait_until(lambda: target_state(tmp_path).get("bake_ends_at") is not None)
        text = cli(plan, aws_endpoint, "status")
        as_json = json.loads(cli(plan, aws_endpoint, "status", "--output", "json").stdout)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)

    assert text.exit_code == 5
    line = next(x for x in text.stdout.splitlines() if x.startswith("us-east-1 api:"))
    assert line.startswith("us-east-1 api: serves 1: 90%, 2: 10%")
    assert "; last: set 1: 90%, 2: 10% at " in line
    assert re.search(r"; baking, (5m|4m\d+s) left$", line), line
    (row,) = as_json["targets"]
    assert as_json["in_flight"] is True and as_json["stranded"] is False
    assert row["bake_ends_at"].endswith("Z") and row["waiting"].startswith("baking, ")
    assert [share["version"] for share in row["shares"]] == ["1", "2"]
    assert as_json["started_by"]["host"] and as_json["rollout"] in text.stdout


def test_a_manual_pause_names_the_promote_command_that_releases_it_and_watch_sees_the_end(
    world: World, aws_endpoint: str, tmp_path: Path
) -> None:
    plan = lambda_plan(tmp_path, MANUAL)
    process = start_apply(plan, aws_endpoint, tmp_path / "log")
    try:
        wait_until(lambda: target_state(tmp_path).get("paused") is True)
        paused = cli(plan, aws_endpoint, "status")
        command = f"rollout promote -f {plan} --region us-east-1 --target api"
        assert f"paused (manual; run {command})" in paused.stdout
        promoted = run_cli([*command.split()[1:], "--endpoint-url", aws_endpoint])
        assert promoted.exit_code == 0, promoted.stdout + promoted.stderr

        watched = cli(plan, aws_endpoint, "status", "--watch", "--interval", "0.1")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)

    assert watched.exit_code == 0, watched.stdout + watched.stderr
    assert world.lambda_routing("api") == ("2", {})
    blocks = watched.stdout.strip().split("\n\n")
    assert "succeeded" in blocks[-1].splitlines()[0]
    # On a pipe, a block is printed only when something changed.
    assert all(a != b for a, b in itertools.pairwise(blocks))
    assert "\x1b" not in watched.stdout


def test_watch_exits_with_the_code_of_a_rollout_that_rolled_back(
    world: World, aws_endpoint: str, tmp_path: Path
) -> None:
    plan = lambda_plan(tmp_path, "{type: canary, percent: 10, interval: 5m}")
    process = start_apply(plan, aws_endpoint, tmp_path / "log")
    watch = ("--watch", "--interval", "0.1", "--output", "json")
    try:
        wait_until(baking_at_10_percent(tmp_path))
        watcher = subprocess.Popen(
            rollout_command("status", plan, aws_endpoint, *watch),
            stdout=subprocess.PIPE,
            text=True,
        )
        assert watcher.stdout is not None
        first = watcher.stdout.readline()  # watching the rollout in flight
        world.set_alarm("api-errors", "ALARM")
        rest, _ = watcher.communicate(timeout=60)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)

    assert watcher.returncode == 3, first + rest
    documents = [json.loads(line) for line in (first + rest).splitlines()]
    assert documents[0]["in_flight"] is True
    assert documents[-1]["status"] == "rolled_back" and documents[-1]["in_flight"] is False
    assert all(d["schema_version"] == 1 for d in documents)


def test_watch_with_nothing_in_flight_shows_once_and_exits_0(
    world: World, aws_endpoint: str, tmp_path: Path
) -> None:
    plan = lambda_plan(tmp_path, "AllAtOnce")

    watched = cli(plan, aws_endpoint, "status", "--watch")

    assert watched.exit_code == 0
    assert watched.stdout.splitlines()[0] == "no rollout recorded"


def test_status_names_a_target_whose_regions_serve_different_code(
    aws_endpoint: str, tmp_path: Path
) -> None:
    for region, body in (("us-east-1", "v2"), ("eu-west-1", "v1")):
        World(aws_endpoint, region).function("api", body=body)
    (tmp_path / "v2.zip").write_bytes(package("v2"))
    plan = tmp_path / "rollout.yaml"
    plan.write_text(
        "version: 1\nname: e2e\nregions: [us-east-1, eu-west-1]\ntargets:\n"
        "  - name: api\n"
        "    lambda: {function: api, alias: live, code: {zip: v2.zip}}\n"
        "    strategy: AllAtOnce\n"
    )

    before = cli(plan, aws_endpoint, "status", "--output", "json")
    released = cli(plan, aws_endpoint, "apply", "--yes", "--region", "eu-west-1")
    after = cli(plan, aws_endpoint, "status")

    assert before.exit_code == 0
    (diverging,) = json.loads(before.stdout)["diverging"]
    assert diverging["target"] == "api" and set(diverging["regions"]) == {"us-east-1", "eu-west-1"}
    assert {s["content"] for shares in diverging["regions"].values() for s in shares} == {
        f"code {_short_sha('v1')}",
        f"code {_short_sha('v2')}",
    }
    assert released.exit_code == 0, released.stdout + released.stderr
    # Version 2 in eu-west-1 runs the code version 1 runs in us-east-1: the same release.
    assert "diverging" not in after.stdout


def _short_sha(body: str) -> str:
    return code_sha256(package(body))[:10] + "…"


def test_history_is_one_row_per_rollout_with_who_what_and_why(
    world: World, aws_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.example")
    monkeypatch.setenv("GITHUB_REPOSITORY", "team/orders")
    monkeypatch.setenv("GITHUB_RUN_ID", "42")
    plan = lambda_plan(tmp_path, "AllAtOnce")
    assert cli(plan, aws_endpoint, "apply", "--yes").exit_code == 0
    monkeypatch.delenv("GITHUB_RUN_ID")
    monkeypatch.setenv("BUILD_URL", "https://jenkins.example/job/orders/7/")
    assert cli(plan, aws_endpoint, "rollback").exit_code == 0  # the same rollout, undone
    hooks = "    hooks:\n      after_traffic: {command: 'echo smoke test failed; exit 1'}\n"
    plan = lambda_plan(tmp_path, "AllAtOnce", body="v3", extra=hooks)
    assert cli(plan, aws_endpoint, "apply", "--yes").exit_code == 3

    listed = json.loads(cli(plan, aws_endpoint, "history", "--output", "json").stdout)
    table = cli(plan, aws_endpoint, "history").stdout.splitlines()
    latest = json.loads(
        cli(plan, aws_endpoint, "history", "--limit", "1", "--output", "json").stdout
    )

    first, second = listed["rollouts"]
    assert first["outcome"] == "rolled_back"  # the final word on it, in one row
    assert first["started_by"]["ci_url"] == "https://github.example/team/orders/actions/runs/42"
    assert first["versions"] == [{"region": "us-east-1", "target": "api", "old": "1", "new": "2"}]
    assert first["duration_seconds"] >= 0 and first["started_at"].endswith("Z")
    assert second["outcome"] == "rolled_back"
    assert (
        "us-east-1: api: after_traffic hook failed: exit 1: smoke test failed" in second["reason"]
    )
    assert second["started_by"]["ci_url"] == "https://jenkins.example/job/orders/7/"
    assert len(table) == 3 and "api 1 → 2" in table[1] and "github.example" in table[1]
    assert [r["rollout"] for r in latest["rollouts"]] == [second["rollout"]]
