"""The last line of a rollout says why it stopped, whatever stopped it."""

from __future__ import annotations

from rollout.engine.outcome import Outcome, RegionResult
from rollout.pipeline.release import describe_ending


def test_a_rolled_back_rollout_ends_with_the_reason_and_leaves_out_skipped_regions() -> None:
    hook = "api: before_traffic hook failed: exit 1: curl: (22) 500 Internal Server Error"
    results = [
        RegionResult("us-east-1", Outcome.ROLLED_BACK, hook),
        RegionResult("eu-west-1", Outcome.SKIPPED, "not started: an earlier wave failed"),
    ]

    line = describe_ending(results, Outcome.ROLLED_BACK, "rollout.yaml")

    assert line == f"1 rolled back, 1 skipped (us-east-1 rolled back: {hook})"


def test_a_rollout_needing_a_human_says_why_and_what_to_run() -> None:
    results = [
        RegionResult("us-east-1", Outcome.SUCCEEDED, "released"),
        RegionResult("eu-west-1", Outcome.NEEDS_HUMAN, "DRIFT: expected 1: 90%, 2: 10%, found 3"),
    ]

    line = describe_ending(results, Outcome.NEEDS_HUMAN, "rollout.yaml")

    assert "(eu-west-1 needs human: DRIFT: expected 1: 90%, 2: 10%, found 3)" in line
    assert "`rollout rollback -f rollout.yaml`" in line


def test_a_success_is_just_counted() -> None:
    results = [RegionResult("us-east-1", Outcome.SUCCEEDED, "released")]

    assert describe_ending(results, Outcome.SUCCEEDED, "rollout.yaml") == "1 succeeded"
