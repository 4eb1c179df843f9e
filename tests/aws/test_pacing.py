"""The request pacer keeps each region's calls under AWS's control-plane rates, on a fake clock."""

from __future__ import annotations

import threading

from rollout.aws.pacing import RequestPacer
from tests.aws.helpers import FakeClock


def test_lambda_pace_allows_a_burst_of_15_then_15_a_second() -> None:
    clock = FakeClock()
    pacer = RequestPacer.for_service("lambda", clock)
    for _ in range(15):
        pacer.acquire()
    assert clock.time == 0.0
    for _ in range(15):
        pacer.acquire()
    assert clock.time >= 1.0 - 1e-9
    assert clock.time <= 1.01


def test_stepfunctions_pace_refills_one_a_second_after_a_burst_of_5() -> None:
    clock = FakeClock()
    pacer = RequestPacer.for_service("stepfunctions", clock)
    for _ in range(10):
        pacer.acquire()
    assert clock.time >= 5.0 - 1e-9
    assert clock.time <= 5.01


def test_an_idle_bucket_refills_only_up_to_its_burst() -> None:
    clock = FakeClock()
    pacer = RequestPacer.for_service("stepfunctions", clock)
    clock.sleep(3600)
    for _ in range(6):
        pacer.acquire()
    assert clock.time == 3601.0


class StoppedClock(FakeClock):
    """A clock that records sleeps without moving: every thread asks at the same instant."""

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.sleeps.append(seconds)

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()


def test_threads_asking_at_once_each_get_their_own_slot() -> None:
    clock = StoppedClock()
    pacer = RequestPacer(clock, rate=10.0, burst=10.0)

    def take_five() -> None:
        for _ in range(5):
            pacer.acquire()

    workers = [threading.Thread(target=take_five) for _ in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    # 30 requests at one instant: 10 from the burst, then one every 0.1 s, none sharing a slot.
    waits = sorted(round(s, 6) for s in clock.sleeps)
    assert waits == [0.0] * 10 + [round(0.1 * n, 6) for n in range(1, 21)]
