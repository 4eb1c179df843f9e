"""How fast an alarm turns into a restored alias, and how many DescribeAlarms calls a tick costs.

    python bench/bench_alarm_rollback.py [--runs 10] [--poll 1.0]

Runs real rollouts through the engine against moto's server on loopback.
Goals (issue 3): p95 of alarm-to-restored <= poll interval + 0.5 s; for 100
targets in 2 regions, 2 DescribeAlarms calls per tick (one per region).
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import random
import statistics
import tempfile
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from rollout.aws import alarms as alarms_module
from rollout.clock import SystemClock
from rollout.engine import events as ev
from rollout.plan.load import load_plan
from rollout.release import Selection, apply_plan


def _zip(body: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", f"def handler(e, c):\n    return {body!r}\n")
    return buffer.getvalue()


def _clients(endpoint: str, region: str) -> dict[str, Any]:
    session = boto3.Session(region_name=region)
    return {s: session.client(s, endpoint_url=endpoint) for s in ("iam", "lambda", "cloudwatch")}


def _alarm(cw: Any, name: str) -> None:
    cw.put_metric_alarm(
        AlarmName=name,
        MetricName="Errors",
        Namespace="Bench",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanThreshold",
    )
    cw.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="bench")


def _function(clients: dict[str, Any], role: str, name: str) -> None:
    clients["lambda"].create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="index.handler",
        Code={"ZipFile": _zip("v1")},
    )
    version = clients["lambda"].publish_version(FunctionName=name)["Version"]
    clients["lambda"].create_alias(FunctionName=name, Name="live", FunctionVersion=version)


def _role(clients: dict[str, Any]) -> str:
    try:
        return str(
            clients["iam"].create_role(RoleName="bench", AssumeRolePolicyDocument="{}")["Role"][
                "Arn"
            ]
        )
    except clients["iam"].exceptions.EntityAlreadyExistsException:
        return str(clients["iam"].get_role(RoleName="bench")["Role"]["Arn"])


def rollback_latency(endpoint: str, runs: int, poll: float) -> list[float]:
    """Seconds from the alarm entering ALARM to the alias serving the recorded version again."""
    clients = _clients(endpoint, "us-east-1")
    role = _role(clients)
    return [_one_rollback(endpoint, clients, role, f"latency-{run}", poll) for run in range(runs)]


def _one_rollback(
    endpoint: str, clients: dict[str, Any], role: str, name: str, poll: float
) -> float:
    _function(clients, role, name)
    _alarm(clients["cloudwatch"], f"{name}-errors")
    folder = Path(tempfile.mkdtemp())
    (folder / "v2.zip").write_bytes(_zip(f"v2-{name}"))
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
        clients["cloudwatch"].set_alarm_state(
            AlarmName=f"{name}-errors", StateValue="ALARM", StateReason="bench"
        )

    def fire_once_baking(event: ev.Event) -> None:
        if isinstance(event, ev.BakeStarted) and not fired_at:
            threading.Thread(target=fire, daemon=True).start()

    def watch() -> None:
        while not restored_at:
            alias = clients["lambda"].get_alias(FunctionName=name, Name="live")
            weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights")
            if fired_at and alias["FunctionVersion"] == "1" and not weights:
                restored_at.append(time.perf_counter())
            time.sleep(0.01)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    selection = Selection(endpoint_url=endpoint)
    result = apply_plan(load_plan(plan), selection, SystemClock(), fire_once_baking)
    watcher.join(10)
    assert result.outcome.value == "rolled_back", result.outcome
    return restored_at[0] - fired_at[0]


def calls_per_tick(endpoint: str, targets: int, poll: float) -> tuple[int, int]:
    """(DescribeAlarms calls, alarm reads) of a rollout of `targets` targets in 2 regions.

    Each engine tick reads the alarms of its region once, so calls per read,
    times the 2 regions ticking side by side, is the calls per tick.
    """
    regions = ["us-east-1", "eu-west-1"]
    folder = Path(tempfile.mkdtemp())
    (folder / "v2.zip").write_bytes(_zip("v2"))
    lines = [f"version: 1\nname: calls\nregions: [{', '.join(regions)}]\nparallelism: 2\ntargets:"]
    for region in regions:
        clients = _clients(endpoint, region)
        role = _role(clients)
        for n in range(targets):
            _function(clients, role, f"fn-{n}")
            _alarm(clients["cloudwatch"], f"fn-{n}-errors-{region}")
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
    result = apply_plan(
        load_plan(plan), Selection(endpoint_url=endpoint), SystemClock(), lambda e: None
    )
    assert result.outcome.value == "succeeded", result.message()
    return watcher.total_calls - calls_before, watcher.total_reads - reads_before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--poll", type=float, default=1.0)
    parser.add_argument("--targets", type=int, default=100)
    args = parser.parse_args()
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
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
    finally:
        server.stop()


if __name__ == "__main__":
    main()
