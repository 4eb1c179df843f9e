"""The crash matrix: `apply` SIGKILLed at many points, then recovered by another process.

After `rollout rollback` every alias is back on its recorded routing; after
`rollout resume` every alias is on the new version (or back on the recorded
routing when the kill came during a rollback); the state file says the same.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.crashes import KILL_POINTS, PLAN, KillPoint, Release, one_fast_one_slow
from tests.support import run_cli


@pytest.mark.parametrize("point", KILL_POINTS, ids=lambda p: p.name)
def test_rollback_after_a_kill_restores_the_recorded_routing(
    aws_endpoint: str, tmp_path: Path, point: KillPoint
) -> None:
    release = Release.create(aws_endpoint, tmp_path)
    release.kill_apply_at(point)

    code = release.recover("rollback")

    log = (tmp_path / "rollback.log").read_text()
    assert code in (0, 3), log
    assert release.at_old(), (release.routings(), log)
    for region in release.state().get("regions", {}).values():  # type: ignore[union-attr]
        for target in region["targets"].values():
            assert target["status"] in ("rolled_back", "unchanged", "created"), target


@pytest.mark.parametrize("point", KILL_POINTS, ids=lambda p: p.name)
def test_resume_after_a_kill_finishes_what_was_started(
    aws_endpoint: str, tmp_path: Path, point: KillPoint
) -> None:
    release = Release.create(aws_endpoint, tmp_path)
    kinds = release.kill_apply_at(point)
    rolling_back = "rollback_started" in kinds

    code = release.recover("resume")

    log = (tmp_path / "resume.log").read_text()
    if rolling_back:
        assert code == 3, log
        assert release.at_old(), (release.routings(), log)
    elif "rollout_finished" in kinds:
        assert code == 0, log
    else:
        assert code == 0, log
        assert release.at_new(), (release.routings(), log)
        assert release.state()["status"] == "succeeded"
    assert release.world.versions("api") == ["1", "2"]  # never published twice


# -- the paths around the matrix ---------------------------------------------------------------

ONE_FAST_ONE_SLOW = one_fast_one_slow("1.5s")


@pytest.mark.parametrize("command", ["rollback", "resume"])
def test_a_kill_after_one_target_reached_100_is_recovered_whole(
    aws_endpoint: str, tmp_path: Path, command: str
) -> None:
    release = Release.create(aws_endpoint, tmp_path)
    release.plan.write_text(ONE_FAST_ONE_SLOW)
    # api is at 100% (its shift and 0.3 s bake are done) while flow bakes its 1.5 s canary.
    release.kill_apply_at(KillPoint("bake_started", target="flow", after_seconds=0.8))
    assert release.state()["regions"]["us-east-1"]["targets"]["api"]["status"] == "done"
    release.world.set_alarm("flow-failures", "ALARM" if command == "resume" else "OK")

    code = release.recover(command)

    log = (tmp_path / f"{command}.log").read_text()
    # resume meets the alarm: every target goes back, the one at 100% too.
    assert code == (0 if command == "rollback" else 3), log
    assert release.at_old(), (release.routings(), log)


@pytest.mark.parametrize("point", KILL_POINTS[4:10], ids=lambda p: p.name)
def test_an_edited_plan_between_kill_and_resume_is_refused_and_rollback_still_works(
    aws_endpoint: str, tmp_path: Path, point: KillPoint
) -> None:
    release = Release.create(aws_endpoint, tmp_path)
    release.kill_apply_at(point)
    before = release.routings()
    release.plan.write_text(PLAN.replace("percent: 20", "percent: 30"))

    assert release.recover("resume") == 1
    assert "targets.flow" in (tmp_path / "resume.log").read_text()
    assert release.routings() == before

    assert release.recover("rollback") == 0, (tmp_path / "rollback.log").read_text()
    assert release.at_old()


def split_flow_canary_first(release: Release) -> dict[str, int]:
    """flow's alias at 90% on version 1 with 10% on version 2, the canary listed first."""
    sfn, machine = release.world.sfn, release.machine
    second = {"StartAt": "C", "States": {"C": {"Type": "Pass", "End": True}}}
    v2 = sfn.update_state_machine(
        stateMachineArn=machine, definition=json.dumps(second), publish=True
    )["stateMachineVersionArn"]
    sfn.update_state_machine_alias(
        stateMachineAliasArn=f"{machine}:prod",
        routingConfiguration=[
            {"stateMachineVersionArn": v2, "weight": 10},
            {"stateMachineVersionArn": f"{machine}:1", "weight": 90},
        ],
    )
    return release.world.sfn_routing(machine)


def test_a_pre_split_step_functions_alias_is_refused_by_default(
    aws_endpoint: str, tmp_path: Path
) -> None:
    release = Release.create(aws_endpoint, tmp_path)
    split = split_flow_canary_first(release)

    result = run_cli(["apply", "--yes", "-f", str(release.plan), "--endpoint-url", aws_endpoint])

    assert result.exit_code == 1
    assert "flow: the alias is already split (2: 10%, 1: 90%)" in result.stderr
    assert "release from version 1" in result.stderr
    assert release.world.sfn_routing(release.machine) == split
    assert release.world.lambda_routing("api") == ("1", {})


@pytest.mark.parametrize(
    "point",
    [
        KillPoint("weight_shifted", target="flow"),
        KillPoint("bake_started", target="flow"),
        KillPoint("weight_shifted", nth=2, target="flow"),
    ],
    ids=lambda p: p.name,
)
def test_a_pre_split_step_functions_alias_goes_back_to_its_exact_split(
    aws_endpoint: str, tmp_path: Path, point: KillPoint
) -> None:
    release = Release.create(aws_endpoint, tmp_path)
    split = split_flow_canary_first(release)
    assert split == {"2": 10, "1": 90}
    release.plan.write_text(PLAN + "on_split_alias: replace\n")

    kinds = release.kill_apply_at(point)
    code = release.recover("rollback")

    log = (tmp_path / "rollback.log").read_text()
    assert code == 0, log
    assert release.world.sfn_routing(release.machine) == split, log
    assert release.world.lambda_routing("api") == ("1", {})
    if "weight_shifted" in kinds:
        # The release moved traffic away from the base (version 1, 90%), not the canary.
        assert "us-east-1 flow: restored alias to 2: 10%, 1: 90%" in log
