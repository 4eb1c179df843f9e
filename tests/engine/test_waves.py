"""Waves of regions: parallel within a wave, a failure stops later waves, done regions stay done."""

from __future__ import annotations

import threading

from rollout.engine.outcome import Outcome, RegionResult
from rollout.engine.waves import run_waves
from tests.engine.fakes import EventLog


def test_second_wave_failure_leaves_the_first_done_and_skips_nothing_before_it() -> None:
    outcomes = {"us-east-1": Outcome.SUCCEEDED, "eu-west-1": Outcome.ROLLED_BACK}
    log = EventLog()
    result = run_waves(
        "orders",
        [["us-east-1"], ["eu-west-1"], ["ap-southeast-2"]],
        4,
        lambda region: RegionResult(region, outcomes[region], ""),
        log,
    )
    assert [(r.region, r.outcome) for r in result.regions] == [
        ("us-east-1", Outcome.SUCCEEDED),
        ("eu-west-1", Outcome.ROLLED_BACK),
        ("ap-southeast-2", Outcome.SKIPPED),
    ]
    assert result.outcome is Outcome.ROLLED_BACK
    assert int(result.outcome.exit_code) == 3


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
        return RegionResult(region, Outcome.SUCCEEDED, "")

    regions = [f"us-east-{n}" for n in range(1, 7)]
    result = run_waves("orders", [regions], 2, run, EventLog())
    assert peak == 2
    assert result.outcome is Outcome.SUCCEEDED


def test_an_unexpected_error_in_a_region_needs_a_human() -> None:
    def run(region: str) -> RegionResult:
        raise RuntimeError("boom")

    result = run_waves("orders", [["us-east-1"]], 1, run, EventLog())
    assert result.outcome is Outcome.NEEDS_HUMAN
    assert "check the aliases of us-east-1" in result.regions[0].message
