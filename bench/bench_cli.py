"""Start-up and validation speed of the CLI, as a user runs it; prints its figures.

    python bench/bench_cli.py [--runs N]

Goals (issue 2): `rollout --help` within 2.5x the start time of a bare
`python -c pass`; `rollout validate` of a 100-target plan under 0.5 s.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed_runs(command: list[str], runs: int) -> list[float]:
    """Wall-clock seconds of each run (after one warm-up run)."""
    subprocess.run(command, check=True, capture_output=True)
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        samples.append(time.perf_counter() - start)
    return samples


def generated_plan(targets: int, regions: int) -> str:
    """A valid plan with `targets` targets over `regions` regions."""
    region_names = [f"us-east-{n}" for n in range(1, regions + 1)]
    lines = ["version: 1", "name: bench", f"regions: [{', '.join(region_names)}]", "targets:"]
    strategies = ["Canary10Percent5Minutes", "Linear10PercentEvery1Minute", "AllAtOnce"]
    for n in range(targets):
        if n % 2:
            lines += [
                f"  - name: t{n}",
                "    stepfunctions:",
                f"      state_machine: flow-{n}",
                "      alias: prod",
                "    strategy: {type: linear, percent: 20, interval: 2m}",
            ]
        else:
            lines += [
                f"  - name: t{n}",
                "    lambda:",
                f"      function: fn-{n}",
                "      alias: live",
                f"    strategy: {strategies[n % 3]}",
            ]
        lines += [f'    alarms: ["t{n}-errors-{{region}}", "t{n}-p99-{{region}}"]']
    return "\n".join(lines) + "\n"


def report(label: str, samples: list[float]) -> float:
    """Print median, p90 and min in milliseconds; return the median in seconds."""
    ordered = sorted(samples)
    median = statistics.median(ordered)
    p90 = ordered[int(0.9 * (len(ordered) - 1))]
    print(
        f"{label:<38} median {median * 1000:7.1f} ms   p90 {p90 * 1000:7.1f} ms"
        f"   min {ordered[0] * 1000:7.1f} ms"
    )
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    rollout = shutil.which("rollout") or str(Path(sys.executable).with_name("rollout"))
    bare = report("python -c pass", timed_runs([sys.executable, "-c", "pass"], args.runs))
    helped = report("rollout --help", timed_runs([rollout, "--help"], args.runs))
    report(
        "rollout validate --help (click)", timed_runs([rollout, "validate", "--help"], args.runs)
    )
    with tempfile.TemporaryDirectory() as folder:
        plan = Path(folder) / "rollout.yaml"
        plan.write_text(generated_plan(targets=100, regions=3), encoding="utf-8")
        validated = report(
            "rollout validate (100 targets)",
            timed_runs([rollout, "validate", "-f", str(plan)], args.runs),
        )
    print(f"--help / bare python: {helped / bare:.2f}x (goal <= 2.5x)")
    print(f"validate, 100 targets: {validated:.3f} s (goal < 0.5 s)")


if __name__ == "__main__":
    main()
