"""How long a cancelled CI job's rollback takes: N state machine aliases mid-canary, then SIGINT.

    python bench/bench_signal_rollback.py [--machines 12] [--runs 3]

`rollout apply` runs as its own process against moto's server; once every
alias is at its canary weight, it gets SIGINT, and SIGTERM 7.5 s later as
GitHub Actions sends them. The figure is the time from SIGINT to the process's
exit, with every alias back on version 1 (goal: well inside 7.5 s).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rollout.sandbox import SandboxWorld, emulator
from tests.processes import rollout_command, wait_until

GITHUB_GRACE_SECONDS = 7.5


def one_run(endpoint: str, machines: int, run: int) -> float:
    """Seconds from SIGINT to exit, with every alias checked back on version 1."""
    world = SandboxWorld(endpoint)
    folder = Path(tempfile.mkdtemp())
    lines = ["version: 1", f"name: signal-{run}", "regions: [us-east-1]", "targets:"]
    arns = []
    for n in range(machines):
        name = f"flow-{run}-{n}"
        arns.append(world.state_machine(name))
        world.alarm(f"{name}-failures")
        definition = {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}}
        (folder / f"{name}.json").write_text(json.dumps(definition))
        lines.append(
            f"  - name: t{n}\n"
            f"    stepfunctions: {{state_machine: {name}, alias: prod, definition: {name}.json}}\n"
            "    strategy: {type: canary, percent: 20, interval: 60s}\n"
            f"    alarms: [{name}-failures]"
        )
    lines.append("alarms: {poll_interval: 0.5s}")
    plan = folder / "rollout.yaml"
    plan.write_text("\n".join(lines) + "\n", encoding="utf-8")
    process = subprocess.Popen(
        rollout_command("apply", plan, endpoint, "--yes"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    wait_until(lambda: all(world.sfn_routing(arn) == {"1": 80, "2": 20} for arn in arns), 120)
    started = time.perf_counter()
    os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(GITHUB_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(60)
    took = time.perf_counter() - started
    assert process.returncode == 3, process.returncode
    assert all(world.sfn_routing(arn) == {"1": 100} for arn in arns)
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--machines", type=int, default=12)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with emulator() as endpoint:
        samples = [one_run(endpoint, args.machines, run) for run in range(args.runs)]
    print(
        f"{args.machines} Step Functions aliases restored after SIGINT over {args.runs} runs: "
        f"median {statistics.median(samples):.2f}s, max {max(samples):.2f}s "
        f"(GitHub Actions sends SIGTERM at {GITHUB_GRACE_SECONDS}s)"
    )


if __name__ == "__main__":
    main()
