"""Waves of regions: parallel within a wave, a failure stops later waves, and the one rule that
turns every region's ending into the rollout's exit code."""

from __future__ import annotations

import threading

import pytest

from rollout.engine.outcome import Outcome, RegionResult
from rollout.engine.waves import overall_outcome, run_waves
from tests.engine.fakes import EventLog

OUT = Outcome


def results(*outcomes: Outcome) -> list[RegionResult]:
    return [RegionResult(f"region-{n}", outcome, "") for n, outcome in enumerate(outcomes)]


def test_a_failed_wave_skips_the_later_ones_and_says_so_for_each_region() -> None:
    outcomes = {"us-east-1": OUT.SUCCEEDED, "eu-west-1": OUT.ROLLED_BACK}
    log = EventLog()
    ended = run_waves(
        [["us-east-1"], ["eu-west-1"], ["ap-southeast-2"]],
        4,
        lambda region: RegionResult(region, outcomes[region], ""),
        log,
    )
    assert [(r.region, r.outcome) for r in ended] == [
        ("us-east-1", OUT.SUCCEEDED),
        ("eu-west-1", OUT.ROLLED_BACK),
        ("ap-southeast-2", OUT.SKIPPED),
    ]
    skipped = [e for e in log.events if e.kind == "region_finished"]
    assert [(e.region, e.outcome) for e in skipped] == [("ap-southeast-2", "skipped")]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("outcomes", "overall", "code"),
    [
        ((OUT.SUCCEEDED, OUT.NOTHING_TO_DO), OUT.SUCCEEDED, 0),
        ((OUT.NOTHING_TO_DO,), OUT.NOTHING_TO_DO, 0),
        # No traffic moved anywhere: the only case for exit 1.
        ((OUT.FAILED_BEFORE_TRAFFIC, OUT.SKIPPED), OUT.FAILED_BEFORE_TRAFFIC, 1),
        ((OUT.NOTHING_TO_DO, OUT.FAILED_BEFORE_TRAFFIC), OUT.FAILED_BEFORE_TRAFFIC, 1),
        # Every region that moved is back.
        ((OUT.ROLLED_BACK, OUT.SKIPPED), OUT.ROLLED_BACK, 3),
        ((OUT.FAILED_BEFORE_TRAFFIC, OUT.ROLLED_BACK), OUT.ROLLED_BACK, 3),
        # Some regions released, others did not: regions serve different releases.
        ((OUT.SUCCEEDED, OUT.ROLLED_BACK, OUT.SKIPPED), OUT.NEEDS_HUMAN, 4),
        ((OUT.SUCCEEDED, OUT.FAILED_BEFORE_TRAFFIC), OUT.NEEDS_HUMAN, 4),
        ((OUT.ROLLED_BACK, OUT.NEEDS_HUMAN), OUT.NEEDS_HUMAN, 4),
    ],
)
def test_the_exit_code_tells_the_truth_about_every_region(
    outcomes: tuple[Outcome, ...], overall: Outcome, code: int
) -> None:
    ended = overall_outcome(results(*outcomes))
    assert ended is overall
    assert int(ended.exit_code) == code


def test_regions_of_a_wave_run_in_parallel_up_to_the_bound() -> None:
    running, peak, lock = 0, 0, threading.Lock()
    pair = threading.Barrier(2, timeout=10)  # two regions must be in flight together

    def run(region: str) -> RegionResult:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        pair.wait()
        with lock:
            running -= 1
        return RegionResult(region, OUT.SUCCEEDED, "")

    regions = [f"us-east-{n}" for n in range(1, 7)]
    ended = run_waves([regions], 2, run, EventLog())
    assert peak == 2
    assert overall_outcome(ended) is OUT.SUCCEEDED


def test_an_unexpected_error_in_a_region_needs_a_human() -> None:
    def run(region: str) -> RegionResult:
        raise RuntimeError("boom")

    ended = run_waves([["us-east-1"]], 1, run, EventLog())
    assert overall_outcome(ended) is OUT.NEEDS_HUMAN
    assert "check the aliases of us-east-1" in ended[0].message
