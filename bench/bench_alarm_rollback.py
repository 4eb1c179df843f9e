"""How fast an alarm turns into a restored alias, and how many DescribeAlarms calls a tick costs.

    python bench/bench_alarm_rollback.py [--runs 10] [--poll 1.0]

Runs real rollouts through the engine against moto's server on loopback.
Goals (issue 3): p95 of alarm-to-restored <= poll interval + 0.5 s; for 100
targets in 2 regions, 2 DescribeAlarms calls per tick (one per region).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import threading
import time
from pathlib import Path

from rollout.aws import alarms as alarms_module
from rollout.commands.release import apply_unattended
from rollout.engine import events as ev
from rollout.plan.load import load_plan
from rollout.sandbox import SandboxWorld, emulator, package


def rollback_latency(
    endpoint: str, runs: int, poll: float, world_endpoint: str | None = None
) -> list[float]:
    """Seconds from the alarm entering ALARM to the alias serving the recorded version again.

    `world_endpoint` (default: `endpoint`) is where the functions are made and watched, so
    a benchmark behind a rate-limiting proxy spends none of the rollout's budget on them.
    """
    world = SandboxWorld(world_endpoint or endpoint)
    return [_one_rollback(endpoint, world, f"latency-{run}", poll) for run in range(runs)]


def _one_rollback(endpoint: str, world: SandboxWorld, name: str, poll: float) -> float:
    world.function(name)
    world.alarm(f"{name}-errors")
    folder = Path(tempfile.mkdtemp())
    (folder / "v2.zip").write_bytes(package(f"v2-{name}"))
    plan = folder / "rollout.yaml"
    plan.write_text(
        f"version: 1\nname: {name}\nregions: [us-east-1]\ntargets:\n"
        f"  - name: api\n    lambda: {{function: {name}, alias: live, code: {{zip: v2.zip}}}}\n"
        "    strategy: {type: canary, percent: 10, interval: 30s}\n"
        f"    alarms: [{name}-errors]\n"
        f"alarms: {{poll_interval: {poll}s}}\n",
        encoding="utf-8",
    )
    fired_at: list[float] = []
    restored_at: list[float] = []

    def fire() -> None:
        time.sleep(random.uniform(0.2, 0.2 + 2 * poll))  # anywhere within a few polls
        fired_at.append(time.perf_counter())
        world.set_alarm(f"{name}-errors", "ALARM")

    def fire_once_baking(event: ev.Event) -> None:
        if isinstance(event, ev.BakeStarted) and not fired_at:
            threading.Thread(target=fire, daemon=True).start()

    def watch() -> None:
        while not restored_at:
            if fired_at and world.lambda_routing(name) == ("1", {}):
                restored_at.append(time.perf_counter())
            time.sleep(0.01)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    result = apply_unattended(load_plan(plan), endpoint, fire_once_baking)
    watcher.join(10)
    assert result is not None and result.outcome.value == "rolled_back", result
    return restored_at[0] - fired_at[0]


def calls_per_tick(
    endpoint: str, targets: int, poll: float, world_endpoint: str | None = None
) -> tuple[int, int]:
    """(DescribeAlarms calls, alarm reads) of a rollout of `targets` targets in 2 regions.

    Each engine tick reads the alarms of its region once, so calls per read,
    times the 2 regions ticking side by side, is the calls per tick.
    """
    regions = ["us-east-1", "eu-west-1"]
    folder = Path(tempfile.mkdtemp())
    (folder / "v2.zip").write_bytes(package("v2"))
    lines = [f"version: 1\nname: calls\nregions: [{', '.join(regions)}]\nparallelism: 2\ntargets:"]
    for region in regions:
        world = SandboxWorld(world_endpoint or endpoint, region)
        for n in range(targets):
            world.function(f"fn-{n}")
            world.alarm(f"fn-{n}-errors-{region}")
    for n in range(targets):
        lines.append(
            f"  - name: t{n}\n"
            f"    lambda: {{function: fn-{n}, alias: live, code: {{zip: v2.zip}}}}\n"
            "    strategy: {type: canary, percent: 10, interval: 2s}\n"
            f"    alarms: ['fn-{n}-errors-{{region}}']"
        )
    lines.append(f"alarms: {{poll_interval: {poll}s}}")
    plan = folder / "rollout.yaml"
    plan.write_text("\n".join(lines) + "\n", encoding="utf-8")
    watcher = alarms_module.CloudWatchAlarms
    calls_before, reads_before = watcher.total_calls, watcher.total_reads
    result = apply_unattended(load_plan(plan), endpoint, lambda _event: None)
    assert result is not None and result.outcome.value == "succeeded", result
    return watcher.total_calls - calls_before, watcher.total_reads - reads_before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--poll", type=float, default=1.0)
    parser.add_argument("--targets", type=int, default=100)
    args = parser.parse_args()
    with emulator() as endpoint:
        samples = sorted(rollback_latency(endpoint, args.runs, args.poll))
        p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
        print(
            f"alarm -> alias restored over {len(samples)} runs (poll {args.poll:g}s): "
            f"median {statistics.median(samples):.3f}s  p95 {p95:.3f}s  max {samples[-1]:.3f}s  "
            f"(goal p95 <= {args.poll + 0.5:.1f}s)"
        )
        calls, reads = calls_per_tick(endpoint, args.targets, 0.5)
        print(
            f"DescribeAlarms for {args.targets} targets in 2 regions: {calls} calls for {reads}"
            f" reads = {calls / max(reads, 1):.2f} per region per tick,"
            f" {2 * calls / max(reads, 1):.2f} per tick (goal 2)"
        )


if __name__ == "__main__":
    main()
