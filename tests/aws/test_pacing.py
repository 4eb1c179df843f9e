"""The request pacer keeps each region's calls under AWS's control-plane rates, on a fake clock."""

from __future__ import annotations

import random
import threading

import pytest

from rollout.aws.pacing import RequestPacer, ServicePacer
from tests.aws.helpers import FakeClock


def test_lambda_pace_allows_a_burst_of_14_then_14_a_second_for_every_api_together() -> None:
    # AWS allows 15 a second; one less leaves room for requests that arrive late.
    clock = FakeClock()
    pacer = ServicePacer("lambda", clock)
    for operation in ["GetAlias", "UpdateAlias"] * 7:
        pacer.acquire(operation)
    assert clock.time == 0.0
    for _ in range(14):
        pacer.acquire("PublishVersion")
    assert clock.time == pytest.approx(1.0, abs=0.01)


def test_restoring_twelve_state_machine_aliases_waits_for_no_token() -> None:
    # Each alias is read, then written: two APIs, each with a bucket of its own.
    clock = FakeClock()
    pacer = ServicePacer("stepfunctions", clock)
    for _ in range(12):
        pacer.acquire("DescribeStateMachineAlias")
        pacer.acquire("UpdateStateMachineAlias")
    assert clock.time == 0.0


def test_a_step_functions_bucket_of_100_then_refills_one_a_second() -> None:
    clock = FakeClock()
    pacer = ServicePacer("stepfunctions", clock)
    for _ in range(100):
        pacer.acquire("UpdateStateMachineAlias")
    assert clock.time == 0.0
    pacer.acquire("UpdateStateMachineAlias")
    assert clock.time == pytest.approx(1.0)
    pacer.acquire("PublishStateMachineVersion")  # another API: another, full bucket
    pacer.acquire("DescribeStateMachineAlias")
    assert clock.time == pytest.approx(1.0)


def test_describe_state_machine_alias_has_a_bucket_of_200() -> None:
    clock = FakeClock()
    pacer = ServicePacer("stepfunctions", clock)
    for _ in range(200):
        pacer.acquire("DescribeStateMachineAlias")
    assert clock.time == 0.0
    pacer.acquire("DescribeStateMachineAlias")
    assert clock.time == pytest.approx(1.0)


def test_apis_without_a_known_limit_are_not_paced() -> None:
    clock = FakeClock()
    for _ in range(500):
        ServicePacer("stepfunctions", clock).acquire("DescribeStateMachine")
        ServicePacer("cloudwatch", clock).acquire("DescribeAlarms")
    assert clock.time == 0.0


def test_an_idle_bucket_refills_only_up_to_its_size() -> None:
    clock = FakeClock()
    pacer = RequestPacer(clock, rate=1.0, burst=5.0)
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


def throttled_by_aws(sends: list[float], rate: float, burst: float) -> int:
    """How many of the requests sent at `sends` AWS's own token bucket would refuse."""
    tokens, last, refused = burst, 0.0, 0
    for at in sorted(sends):
        tokens = min(burst, tokens + (at - last) * rate)
        last = at
        if tokens >= 1:
            tokens -= 1
        else:
            refused += 1
    return refused


def test_lambda_calls_keep_headroom_so_network_jitter_is_not_throttled() -> None:
    clock = FakeClock()
    pacer = ServicePacer("lambda", clock)
    jitter = random.Random(11)
    arrivals = []
    for _ in range(400):
        pacer.acquire("UpdateAlias")
        # Requests reach AWS a few milliseconds late, each by its own amount.
        arrivals.append(clock.time + jitter.uniform(0.0, 0.03))

    assert throttled_by_aws(arrivals, rate=15.0, burst=15.0) == 0
    assert clock.time <= 400 / 15 * 1.1  # still close to AWS's own limit


def test_get_function_has_its_own_quota_and_leaves_the_control_plane_bucket_alone() -> None:
    clock = FakeClock()
    pacer = ServicePacer("lambda", clock)
    for _ in range(50):
        pacer.acquire("GetFunction")
    assert clock.time == 0.0
    for _ in range(14):
        pacer.acquire("UpdateAlias")
    assert clock.time == 0.0
