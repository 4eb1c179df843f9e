"""Crash and fault safety, measured: random kill points and a faulty network.

    python bench/bench_crash_matrix.py [--kills 50] [--faulty 20] [--seed 7]

1. `rollout apply` of a two-target release is SIGKILLed right after a random
   event of its stream (half the runs with an alarm firing mid-way, so kills
   also land during rollbacks), then recovered by `rollout rollback` or
   `rollout resume` from another process.
2. Releases run through a proxy that throttles, fails or stalls 10% of the
   AWS requests.
Reports the rollouts left in a wrong state (goal: 0) and recovery times.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rollout.sandbox import emulator
from tests.crashes import KillPoint, Release
from tests.e2e.test_faults import release_through
from tests.faultproxy import Faults, fault_proxy

EVENTS_IN_A_RUN = 24  # about as many events as an uninterrupted release emits


def reset(endpoint: str) -> None:
    requests.post(f"{endpoint}/moto-api/reset", timeout=10)


def one_crash(endpoint: str, rng: random.Random) -> tuple[bool, float, str]:
    """(ended right, recovery seconds, description) for one random kill and recovery."""
    reset(endpoint)
    folder = Path(tempfile.mkdtemp())
    release = Release.create(endpoint, folder)
    alarm = rng.choice([None, 1, 2, 3])
    point = KillPoint("any", nth=rng.randint(1, EVENTS_IN_A_RUN), alarm_after_shifts=alarm)
    try:
        kinds = release.kill_apply_at(point)
    except AssertionError:  # the release ended before that many events: kill nothing
        kinds = ["rollout_finished"]
    command = rng.choice(["rollback", "resume"])
    started = time.perf_counter()
    code = release.recover(command)
    seconds = time.perf_counter() - started
    if command == "rollback" or "rollback_started" in kinds:
        right = release.at_old() and code in (0, 3)
    elif "rollout_finished" in kinds:
        right = (release.at_old() or release.at_new()) and code in (0, 3)
    else:
        right = release.at_new() and code == 0
    what = f"kill after event {point.nth} ({kinds[-1]}), alarm {alarm}, then {command}: exit {code}"
    return right, seconds, what


def one_faulty_release(endpoint: str, seed: int) -> tuple[bool, str]:
    """Whether a release through a 10%-faulty proxy ended complete or rolled back."""
    reset(endpoint)
    folder = Path(tempfile.mkdtemp())
    release = Release.create(endpoint, folder)
    faults = Faults(throttle=0.04, server_error=0.04, stall=0.02, stall_seconds=1.0, seed=seed)
    with fault_proxy(endpoint, faults) as proxy:
        code = release_through(proxy, folder)
    right = (code == 0 and release.at_new()) or (code == 3 and release.at_old())
    return right, f"seed {seed}: exit {code}, faults {faults.counts}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--faulty", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with emulator() as endpoint:
        crashes = [one_crash(endpoint, rng) for _ in range(args.kills)]
        wrong = [what for right, _, what in crashes if not right]
        times = sorted(seconds for _, seconds, _ in crashes)
        print(
            f"crash matrix: {len(crashes)} random kill points, {len(wrong)} left in a wrong state "
            f"(goal 0); recovery median {statistics.median(times):.2f}s, worst {times[-1]:.2f}s"
        )
        for what in wrong:
            print(f"  WRONG: {what}")
        faulty = [one_faulty_release(endpoint, seed) for seed in range(args.faulty)]
        bad = [what for right, what in faulty if not right]
        print(
            f"fault proxy at 10%: {len(faulty)} releases, {len(bad)} left in a wrong state (goal 0)"
        )
        for what in bad:
            print(f"  WRONG: {what}")


if __name__ == "__main__":
    main()
