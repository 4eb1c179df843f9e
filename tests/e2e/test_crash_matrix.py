"""The crash matrix: `apply` SIGKILLed at many points, then recovered by another process.

After `rollout rollback` every alias is back on its recorded routing; after
`rollout resume` every alias is on the new version (or back on the recorded
routing when the kill came during a rollback); the state file says the same.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.crashes import KILL_POINTS, KillPoint, Release


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
