"""The request pacer keeps each region's calls under AWS's control-plane rates, on a fake clock."""

from __future__ import annotations

from rollout.aws.pacing import RequestPacer
from tests.engine.fakes import FakeClock


def test_lambda_pace_allows_a_burst_of_15_then_15_a_second() -> None:
    clock = FakeClock()
    pacer = RequestPacer.for_service("lambda", clock)
    for _ in range(15):
        pacer.acquire()
    assert clock.time == 0.0
    for _ in range(15):
        pacer.acquire()
    assert 0.99 <= clock.time <= 1.01


def test_stepfunctions_pace_refills_one_a_second_after_a_burst_of_5() -> None:
    clock = FakeClock()
    pacer = RequestPacer.for_service("stepfunctions", clock)
    for _ in range(10):
        pacer.acquire()
    assert 4.99 <= clock.time <= 5.01
