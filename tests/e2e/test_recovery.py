"""Recovery around the happy path: resumed, edited, unrecorded and half-rolled-back rollouts.

`rollout apply` runs as a real process against moto's server and is killed
where each test wants it; `resume`, `rollback`, `abort`, `promote` and
`unlock` then run as a user would, and the tests read what AWS reports.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from rollout.sandbox import package
from tests.crashes import KillPoint, Release, one_fast_one_slow
from tests.e2e.world import World
from tests.processes import rollout_command, wait_until
from tests.support import CliResult, run_cli

TWO_SPEEDS = one_fast_one_slow("30s")


API_ONLY = TWO_SPEEDS.split("  - name: flow", maxsplit=1)[0]


def start_apply(release: Release, *more: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        rollout_command("apply", release.plan, release.endpoint, "--yes", *more),
        stdin=subprocess.DEVNULL,
        stdout=(release.folder / "apply.log").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def recorded(release: Release, target: str, region: str = "us-east-1") -> dict[str, Any]:
    regions: dict[str, Any] = release.state().get("regions", {})  # type: ignore[assignment]
    return dict(regions.get(region, {}).get("targets", {}).get(target, {}))


def kill_when(process: subprocess.Popen[bytes], condition: Callable[[], bool]) -> None:
    wait_until(condition)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(30)


def cli(release: Release, command: str, *more: str) -> CliResult:
    return run_cli([command, "-f", str(release.plan), "--endpoint-url", release.endpoint, *more])


def api_done_flow_at_canary(release: Release) -> Callable[[], bool]:
    return lambda: (
        recorded(release, "api").get("status") == "done"
        and recorded(release, "flow").get("step", 0) >= 1
    )


def api_release(endpoint: str, folder: Path, plan: str, world: World | None = None) -> Release:
    """A release of the function `api` alone (to a v2 package), with the plan given."""
    (folder / "v2.zip").write_bytes(package("v2"))
    made = Release(world or world_with_api(endpoint), "", folder, endpoint)
    made.plan.write_text(plan)
    return made


def world_with_api(endpoint: str, region: str = "us-east-1") -> World:
    world = World(endpoint, region)
    world.function("api")
    world.alarm("api-errors")
    return world


@pytest.fixture
def release(aws_endpoint: str, tmp_path: Path) -> Release:
    made = Release.create(aws_endpoint, tmp_path)
    made.plan.write_text(TWO_SPEEDS)
    return made


def test_resume_meeting_an_alarm_rolls_back_every_target_even_one_already_at_100(
    release: Release,
) -> None:
    kill_when(start_apply(release), api_done_flow_at_canary(release))
    assert release.routings() == (("2", {}), {"1": 80, "2": 20})
    release.world.set_alarm("api-errors", "ALARM")

    result = cli(release, "resume")

    assert result.exit_code == 3, result.stdout + result.stderr
    assert release.at_old(), release.routings()
    assert "us-east-1 api: restored alias to 1: 100%" in result.stdout


def test_resume_refuses_a_plan_edited_since_and_names_what_changed_unless_forced(
    release: Release,
) -> None:
    kill_when(start_apply(release), api_done_flow_at_canary(release))
    release.plan.write_text(TWO_SPEEDS.replace("interval: 30s", "interval: 0.3s"))

    refused = cli(release, "resume")

    assert refused.exit_code == 1
    assert "the plan changed since rollout" in refused.stderr
    assert "targets.flow" in refused.stderr and "targets.api" not in refused.stderr
    assert release.routings() == (("2", {}), {"1": 80, "2": 20})  # nothing moved

    forced = cli(release, "resume", "--force")

    assert forced.exit_code == 0, forced.stdout + forced.stderr
    assert release.at_new()
    assert "warning: carrying on with the edited plan (targets.flow)" in forced.stderr


def test_a_target_recorded_done_is_done_only_if_its_alias_serves_the_new_version(
    release: Release,
) -> None:
    kill_when(start_apply(release), api_done_flow_at_canary(release))
    # A plan edited so that the recorded step of flow is past the end of its new steps.
    release.plan.write_text(
        TWO_SPEEDS.replace("{type: canary, percent: 20, interval: 30s}", "AllAtOnce")
    )

    result = cli(release, "resume", "--force")

    assert result.exit_code == 0, result.stdout + result.stderr
    assert release.at_new(), release.routings()


def test_rollback_restores_what_was_recorded_even_if_the_plan_no_longer_names_it(
    release: Release,
) -> None:
    kill_when(start_apply(release), api_done_flow_at_canary(release))
    # The plan now names another function and has dropped the state machine.
    release.plan.write_text(
        API_ONLY.replace("function: api", "function: api-renamed")
        + "alarms: {poll_interval: 0.1s, bake: 0.2s}\n"
    )

    result = cli(release, "rollback")

    assert result.exit_code == 0, result.stdout + result.stderr
    assert release.at_old(), release.routings()
    assert release.state()["status"] == "rolled_back"


def two_region_release(endpoint: str, folder: Path) -> tuple[Release, World, World]:
    east, west = world_with_api(endpoint), world_with_api(endpoint, "eu-west-1")
    made = api_release(
        endpoint,
        folder,
        "version: 1\nname: crash\nregions: [us-east-1, eu-west-1]\ntargets:\n"
        "  - name: api\n    lambda: {function: api, alias: live, code: {zip: v2.zip}}\n"
        "    strategy: {type: canary, percent: 10, interval: 30s}\n    alarms: [api-errors]\n"
        "alarms: {poll_interval: 0.1s, bake: 0.2s}\n",
        east,
    )
    return made, east, west


def killed_with_both_regions_at_the_canary(
    endpoint: str, folder: Path
) -> tuple[Release, World, World]:
    """A two-region apply with a 1 s canary, killed once both regions serve it."""
    made, east, west = two_region_release(endpoint, folder)
    made.plan.write_text(made.plan.read_text().replace("interval: 30s", "interval: 1s"))
    kill_when(
        start_apply(made),
        lambda: east.lambda_routing("api") == CANARY and west.lambda_routing("api") == CANARY,
    )
    return made, east, west


CANARY = ("1", {"2": Decimal("10.00")})  # the routing of a 10% canary from 1 to 2


def test_rollback_of_one_region_leaves_the_record_open_for_the_others(
    aws_endpoint: str, tmp_path: Path
) -> None:
    made, east, west = two_region_release(aws_endpoint, tmp_path)
    split = ("1", {"2": Decimal("10.00")})
    kill_when(
        start_apply(made),
        lambda: (
            east.lambda_routing("api") == split
            and west.lambda_routing("api") == split
            and recorded(made, "api", "eu-west-1").get("step", 0) >= 1
        ),
    )

    first = cli(made, "rollback", "--region", "us-east-1")

    assert first.exit_code == 0, first.stdout + first.stderr
    assert east.lambda_routing("api") == ("1", {})
    assert west.lambda_routing("api") == CANARY
    assert made.state()["status"] == "in_progress"

    # The plan no longer lists eu-west-1: the record still says what to restore there.
    made.plan.write_text(made.plan.read_text().replace("[us-east-1, eu-west-1]", "[us-east-1]"))
    rest = cli(made, "rollback", "--region", "eu-west-1")

    assert rest.exit_code == 0, rest.stdout + rest.stderr
    assert west.lambda_routing("api") == ("1", {})
    assert made.state()["status"] == "rolled_back"


def test_apply_after_a_forced_unlock_will_not_overwrite_an_unfinished_record(
    release: Release,
) -> None:
    kill_when(start_apply(release), api_done_flow_at_canary(release))
    started = release.state()["id"]
    assert cli(release, "unlock", "--force").exit_code == 0

    refused = cli(release, "apply", "--yes")

    assert refused.exit_code == 4
    assert f"rollout {started} of 'crash' never finished" in refused.stderr
    assert "rollout rollback -f" in refused.stderr and "rollout resume -f" in refused.stderr
    assert release.state()["id"] == started

    refused_again = cli(release, "apply", "--yes", "--discard-record")

    # The aliases the killed rollout left split stop the new release: the record stays.
    assert refused_again.exit_code == 1, refused_again.stdout + refused_again.stderr
    assert "already split" in refused_again.stderr
    assert release.state()["id"] == started and "no rollouts" in cli(release, "history").stdout

    release.plan.write_text(TWO_SPEEDS.replace("30s", "0.3s") + "on_split_alias: replace\n")
    discarded = cli(release, "apply", "--yes", "--discard-record")

    assert discarded.exit_code == 0, discarded.stdout + discarded.stderr
    assert "was moved to the history" in discarded.stderr
    history = cli(release, "history").stdout
    assert started in history and "in_progress" in history
    assert release.state()["id"] != started


def test_rollback_with_no_record_refuses_while_an_alias_is_still_split(release: Release) -> None:
    kill_when(start_apply(release), api_done_flow_at_canary(release))
    shutil.rmtree(release.folder / ".rollout")

    split = cli(release, "rollback")

    assert split.exit_code == 4
    assert "no rollout of 'crash' is recorded, but us-east-1 flow serves" in split.stderr
    assert "no rollout recorded" not in split.stdout


def test_rollback_with_no_record_and_nothing_split_has_nothing_to_do(release: Release) -> None:
    result = cli(release, "rollback")

    assert result.exit_code == 0
    assert "nothing to restore" in result.stdout


def test_abort_and_promote_without_a_running_process_say_so(release: Release) -> None:
    kill_when(start_apply(release), api_done_flow_at_canary(release))

    for command in ("abort", "promote"):
        result = cli(release, command)
        assert result.exit_code == 1, result.stdout + result.stderr
        assert "no running process holds it" in result.stderr
        assert "asked" not in result.stdout


def test_promote_naming_an_unknown_target_or_region_is_a_usage_error(release: Release) -> None:
    result = cli(release, "promote", "--target", "nope")

    assert result.exit_code == 2
    assert "no target named 'nope'" in result.stderr

    result = cli(release, "promote", "--region", "mars-1")

    assert result.exit_code == 2
    assert "no region named 'mars-1'" in result.stderr


def test_a_promote_sent_during_a_timed_pause_does_not_release_a_later_manual_pause(
    aws_endpoint: str, tmp_path: Path
) -> None:
    made = api_release(
        aws_endpoint,
        tmp_path,
        "version: 1\nname: crash\nregions: [us-east-1]\ntargets:\n"
        "  - name: api\n    lambda: {function: api, alias: live, code: {zip: v2.zip}}\n"
        "    strategy:\n      steps:\n        - {weight: 20, pause: 1s}\n"
        "        - {weight: 50, pause: manual}\n        - {weight: 100}\n"
        "    alarms: [api-errors]\nalarms: {poll_interval: 0.1s}\n",
    )
    world = made.world
    process = start_apply(made)
    try:
        wait_until(lambda: world.lambda_routing("api") == ("1", {"2": Decimal("20.00")}))

        early = cli(made, "promote")

        assert early.exit_code == 1
        assert "no target is waiting at a manual pause" in early.stderr
        wait_until(lambda: recorded(made, "api").get("paused", False))
        time.sleep(0.5)  # several polls: the early promote must not count for this pause
        assert world.lambda_routing("api") == ("1", {"2": Decimal("50.00")})

        assert cli(made, "promote").exit_code == 0
        assert process.wait(30) == 0
        assert world.lambda_routing("api") == ("2", {})
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)


def test_a_closed_stdout_does_not_stop_the_rollout(release: Release) -> None:
    release.plan.write_text(TWO_SPEEDS.replace("interval: 30s", "interval: 0.3s"))
    # As in `rollout apply --output json | head -3`.
    process = subprocess.Popen(
        rollout_command("apply", release.plan, release.endpoint, "--yes", "--output", "json"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    first = [json.loads(process.stdout.readline()) for _ in range(3)]
    process.stdout.close()

    code = process.wait(60)
    errors = process.stderr.read().decode()

    assert first[0]["event"] == "rollout_started"
    assert code == 0, errors
    assert release.at_new()
    assert errors.count("output stopped") == 1 and "Traceback" not in errors
    assert release.state()["status"] == "succeeded"


def test_a_state_store_that_fails_mid_shift_rolls_traffic_back_from_memory(
    release: Release,
) -> None:
    process = subprocess.Popen(
        rollout_command("apply", release.plan, release.endpoint, "--yes", "--output", "json"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    wait_until(api_done_flow_at_canary(release))
    # The state folder goes away and a file takes its place: every write fails from now on.
    state_folder = release.folder / ".rollout"
    state_folder.rename(release.folder / "moved-away")
    state_folder.write_text("not a folder")

    out, errors = process.communicate(timeout=60)

    events = [json.loads(line) for line in out.decode().splitlines()]
    assert process.returncode == 4, errors.decode()
    assert events[-1]["event"] == "rollout_finished" and events[-1]["exit_code"] == 4
    assert "state store" in events[-1]["message"]
    assert release.at_old(), release.routings()

    # The store comes back, stale: rollback finds every alias already restored.
    state_folder.unlink()
    (release.folder / "moved-away").rename(state_folder)
    again = cli(release, "rollback")
    assert again.exit_code == 0, again.stdout + again.stderr
    assert "DRIFT" not in again.stdout and release.state()["status"] == "rolled_back"


def test_an_alias_on_latest_is_refused_before_anything_is_written(
    aws_endpoint: str, tmp_path: Path
) -> None:
    world = World(aws_endpoint)
    world.function("api", alias=None)
    world.lam.create_alias(FunctionName="api", Name="live", FunctionVersion="$LATEST")
    world.alarm("api-errors")
    made = api_release(aws_endpoint, tmp_path, API_ONLY + "alarms: {poll_interval: 0.1s}\n", world)
    sha_before = world.lam.get_function(FunctionName="api")["Configuration"]["CodeSha256"]

    result = cli(made, "apply", "--yes")

    assert result.exit_code == 1
    assert "the alias points at $LATEST" in result.stderr
    assert world.versions("api") == ["1"]
    assert world.lam.get_function(FunctionName="api")["Configuration"]["CodeSha256"] == sha_before


def test_a_split_lambda_alias_is_refused_naming_its_routing(
    aws_endpoint: str, tmp_path: Path
) -> None:
    world = World(aws_endpoint)
    world.function("api")
    world.lam.update_function_code(FunctionName="api", ZipFile=b"PK" + b"\0" * 20)
    world.lam.publish_version(FunctionName="api")
    # Most of the traffic is on version 2 already: that is the base, whatever the API calls it.
    world.lam.update_alias(
        FunctionName="api",
        Name="live",
        FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.7}},
    )
    world.alarm("api-errors")
    made = api_release(aws_endpoint, tmp_path, API_ONLY + "alarms: {poll_interval: 0.1s}\n", world)

    result = cli(made, "apply", "--yes")

    assert result.exit_code == 1
    assert "the alias is already split (1: 30%, 2: 70%)" in result.stderr
    assert "release from version 2" in result.stderr
    assert world.versions("api") == ["1", "2"]


def test_releasing_a_version_that_does_not_exist_fails_before_traffic(
    aws_endpoint: str, tmp_path: Path
) -> None:
    made = api_release(
        aws_endpoint,
        tmp_path,
        API_ONLY.replace("{zip: v2.zip}", '{version: "99"}') + "alarms: {poll_interval: 0.1s}\n",
    )

    result = cli(made, "apply", "--yes")

    assert result.exit_code == 1
    assert "version 99 of api does not exist" in result.stderr
    assert made.world.lambda_routing("api") == ("1", {})


def test_every_recovery_command_speaks_json_for_scripts(release: Release) -> None:
    kill_when(start_apply(release), api_done_flow_at_canary(release))

    status = json.loads(cli(release, "status", "--output", "json").stdout)
    unlock = json.loads(cli(release, "unlock", "--output", "json").stdout)
    abort = json.loads(cli(release, "abort", "--output", "json").stdout)
    rolled = [
        json.loads(line)
        for line in cli(release, "rollback", "--output", "json").stdout.splitlines()
    ]
    history = json.loads(cli(release, "history", "--output", "json").stdout)

    assert status["schema_version"] == 1 and status["exit_code"] == 5
    assert {(t["target"], t["serves"]) for t in status["targets"]} == {
        ("api", "2: 100%"),
        ("flow", "1: 80%, 2: 20%"),
    }
    assert unlock["exit_code"] == 1 and "locked by" in unlock["lines"][0]
    assert abort["exit_code"] == 1
    assert rolled[-1]["event"] == "rollout_finished" and rolled[-1]["exit_code"] == 0
    assert [r["outcome"] for r in history["rollouts"]] == ["rolled_back"]


def test_resume_needs_no_package_for_what_was_published_and_still_rolls_all_back(
    release: Release,
) -> None:
    kill_when(start_apply(release), api_done_flow_at_canary(release))
    (release.folder / "v2.zip").unlink()
    release.world.set_alarm("flow-failures", "ALARM")

    result = cli(release, "resume")

    # Not "failed before traffic": traffic had moved, and every target goes back.
    assert result.exit_code == 3, result.stdout + result.stderr
    assert release.at_old(), release.routings()
    assert release.state()["status"] == "rolled_back"


def test_resume_of_one_region_leaves_the_record_open_for_the_others(
    aws_endpoint: str, tmp_path: Path
) -> None:
    made, east, west = killed_with_both_regions_at_the_canary(aws_endpoint, tmp_path)

    first = cli(made, "resume", "--region", "us-east-1")

    assert first.exit_code == 0, first.stdout + first.stderr
    assert east.lambda_routing("api") == ("2", {}) and west.lambda_routing("api") == CANARY
    assert made.state()["status"] == "in_progress"
    assert cli(made, "status").exit_code == 5

    rest = cli(made, "resume")

    assert rest.exit_code == 0, rest.stdout + rest.stderr
    assert west.lambda_routing("api") == ("2", {})
    assert made.state()["status"] == "succeeded"


def test_resume_of_some_targets_of_a_region_is_refused(release: Release) -> None:
    result = cli(release, "resume", "--target", "flow")

    assert result.exit_code == 2
    assert "a region's targets are one release" in result.stderr


def test_rollback_with_no_record_and_aws_out_of_reach_does_not_say_nothing_to_restore(
    release: Release,
) -> None:
    result = run_cli(["rollback", "-f", str(release.plan), "--endpoint-url", "http://127.0.0.1:9"])

    # Who rollout acts as is asked first: the unreachable endpoint is an error, exit 1.
    assert result.exit_code == 1, result.stdout + result.stderr
    assert "GetCallerIdentity on AWS in us-east-1 failed" in result.stderr
    assert "nothing to restore" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    "closed",
    ["2>&-", ">&- 2>&-", "--output json 2>&- | head -3; exit ${PIPESTATUS[0]}"],
    ids=["stderr", "stdout-and-stderr", "stderr-and-a-pipe-that-closes"],
)
def test_a_rollout_started_with_its_output_closed_still_runs_to_its_end(
    release: Release, closed: str
) -> None:
    release.plan.write_text(TWO_SPEEDS.replace("interval: 30s", "interval: 0.3s"))
    command = " ".join(
        shlex.quote(part)
        for part in rollout_command("apply", release.plan, release.endpoint, "--yes")
    )

    done = subprocess.run(
        ["bash", "-c", f"{command} {closed}"], stdout=subprocess.DEVNULL, timeout=60, check=False
    )

    assert done.returncode == 0
    assert release.at_new(), release.routings()
    assert release.state()["status"] == "succeeded"


def test_rollback_of_one_region_while_a_rollout_runs_is_refused(
    aws_endpoint: str, tmp_path: Path
) -> None:
    made, _, _ = two_region_release(aws_endpoint, tmp_path)
    process = start_apply(made)
    try:
        wait_until(lambda: recorded(made, "api", "eu-west-1").get("step", 0) >= 1)

        result = cli(made, "rollback", "--region", "eu-west-1")

        assert result.exit_code == 1
        assert "rolls back as a whole" in result.stderr
        assert process.poll() is None  # nobody asked it to stop
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)


def test_two_targets_resolving_to_the_same_alias_are_refused_before_anything_moves(
    aws_endpoint: str, tmp_path: Path
) -> None:
    world = world_with_api(aws_endpoint, "us-east-1")
    world.function("api-us-east-1")
    plan = (
        "version: 1\nname: crash\nregions: [us-east-1]\ntargets:\n"
        "  - name: one\n    lambda: {function: api-us-east-1, alias: live, code: {zip: v2.zip}}\n"
        "    strategy: AllAtOnce\n"
        # The same function, named by its ARN and a placeholder: still one alias.
        "  - name: two\n    lambda: {function: 'arn:aws:lambda:{region}:123456789012:function:"
        "api-{region}', alias: live, code: {zip: v2.zip}}\n"
        "    strategy: AllAtOnce\n"
    )
    made = api_release(aws_endpoint, tmp_path, plan, world)

    result = cli(made, "apply", "--yes")

    assert result.exit_code == 1
    assert "targets 'one' and 'two' both name lambda api-us-east-1:live" in result.stderr
    assert world.versions("api-us-east-1") == ["1"]


def test_resume_carries_on_only_what_a_narrowed_apply_set_out_to_do(
    aws_endpoint: str, tmp_path: Path
) -> None:
    made, east, west = two_region_release(aws_endpoint, tmp_path)
    made.plan.write_text(made.plan.read_text().replace("interval: 30s", "interval: 1s"))
    split = ("1", {"2": Decimal("10.00")})
    kill_when(
        start_apply(made, "--region", "us-east-1"), lambda: east.lambda_routing("api") == split
    )

    result = cli(made, "resume")

    assert result.exit_code == 0, result.stdout + result.stderr
    assert east.lambda_routing("api") == ("2", {})
    assert west.lambda_routing("api") == ("1", {}) and west.versions("api") == ["1"]
    assert made.state()["status"] == "succeeded"


def test_resume_carries_on_only_the_targets_a_narrowed_apply_chose(release: Release) -> None:
    release.plan.write_text(TWO_SPEEDS.replace("interval: 30s", "interval: 1s"))
    kill_when(
        start_apply(release, "--target", "flow"),
        lambda: recorded(release, "flow").get("step", 0) >= 1,
    )

    result = cli(release, "resume")

    assert result.exit_code == 0, result.stdout + result.stderr
    assert release.world.sfn_routing(release.machine) == {"2": 100}
    assert release.world.lambda_routing("api") == ("1", {}) and release.world.versions("api") == [
        "1"
    ]


def test_a_rollback_killed_before_it_restored_anything_is_owed_and_finished_by_resume(
    release: Release,
) -> None:
    release.plan.write_text(TWO_SPEEDS.replace("interval: 30s", "interval: 0.3s"))
    assert cli(release, "apply", "--yes").exit_code == 0 and release.at_new()

    release.kill_apply_at(KillPoint("rollout_started"), ("rollback",))

    assert cli(release, "status").exit_code == 5  # the rollback is owed
    refused = cli(release, "apply", "--yes")
    assert refused.exit_code == 4 and "never finished" in refused.stderr
    finished = cli(release, "resume")
    assert finished.exit_code == 0, finished.stdout + finished.stderr
    assert "finishing the rollback of us-east-1" in finished.stderr
    assert release.at_old(), release.routings()
    assert release.state()["status"] == "rolled_back"


def test_a_rollback_killed_half_way_is_finished_by_resume(release: Release) -> None:
    release.plan.write_text(TWO_SPEEDS.replace("interval: 30s", "interval: 0.3s"))
    assert cli(release, "apply", "--yes").exit_code == 0

    release.kill_apply_at(KillPoint("rollback_started"), ("rollback",))

    assert cli(release, "resume").exit_code == 0
    assert release.at_old(), release.routings()


def test_resume_of_a_record_gone_stale_while_rolling_back_from_memory_finishes_the_rollback(
    release: Release,
) -> None:
    process = start_apply(release)
    wait_until(api_done_flow_at_canary(release))
    state_folder = release.folder / ".rollout"
    state_folder.rename(release.folder / "moved-away")
    state_folder.write_text("not a folder")
    assert process.wait(60) == 4 and release.at_old()
    state_folder.unlink()
    (release.folder / "moved-away").rename(state_folder)  # back, but stale: "shifting"

    result = cli(release, "resume")

    assert result.exit_code == 3, result.stdout + result.stderr
    assert "DRIFT" not in result.stdout and "found back where it began" in result.stdout
    assert release.at_old() and release.state()["status"] == "rolled_back"


def test_resume_is_not_refused_for_a_removed_region_a_rollback_already_restored(
    aws_endpoint: str, tmp_path: Path
) -> None:
    made, east, west = killed_with_both_regions_at_the_canary(aws_endpoint, tmp_path)
    made.plan.write_text(made.plan.read_text().replace("[us-east-1, eu-west-1]", "[us-east-1]"))
    assert cli(made, "rollback", "--region", "eu-west-1").exit_code == 0

    made.plan.write_text(made.plan.read_text().replace("[us-east-1]", "[us-east-1, ap-south-1]"))

    result = cli(made, "resume", "--force")

    assert result.exit_code == 0, result.stdout + result.stderr
    assert east.lambda_routing("api") == ("2", {}) and west.lambda_routing("api") == ("1", {})
    assert "not released by this resume: ap-south-1" in result.stderr
