"""Releases through the limits proxy, as a user runs them, and the figures read from its log.

Functions, state machines and alarms are made directly on moto's server, so
setting up spends none of the rollout's request budget; `rollout apply` runs
as its own process against the proxy. Times come from the proxy's log (when
AWS saw a request and answered it) and the process's exit, on one clock.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.limits_proxy import ALIAS_WRITES, Exchange, Limits, LimitsProxy, limits_proxy
from rollout.sandbox import SandboxWorld, package
from tests.processes import rollout_command, wait_until

LAMBDA_RATE = 15.0
STEPS_SPLIT_THEN_FULL = "{steps: [{weight: 10, pause: 2s}, {weight: 100}]}"
THROTTLE_WORDS = ("TooManyRequests", "Throttl", "Rate exceeded")


@dataclass(frozen=True)
class Finished:
    """A `rollout apply` process that ended."""

    code: int
    output: str
    exited: float  # time.monotonic(), the proxy's clock
    peak_rss_mb: float

    @property
    def throttling_surfaced(self) -> int:
        """Lines of the output that report a throttling error to the user."""
        return sum(any(w in line for w in THROTTLE_WORDS) for line in self.output.splitlines())


@dataclass(frozen=True)
class StepFigures:
    """One traffic step across many targets, and what the run around it cost."""

    seconds: float
    throttled: int
    surfaced: int
    peak_rss_mb: float


def start_apply(plan: Path, endpoint: str) -> tuple[subprocess.Popen[bytes], Path]:
    """`rollout apply --yes` of `plan` against `endpoint`, its output going to a file."""
    log = plan.with_name("apply.log")
    with log.open("wb") as out:
        process = subprocess.Popen(
            rollout_command("apply", plan, endpoint, "--yes"), stdout=out, stderr=out
        )
    return process, log


def finish(process: subprocess.Popen[bytes], log: Path) -> Finished:
    """Wait for the process; its exit code, output, exit time and peak memory."""
    peak = [0.0]
    sampler = threading.Thread(target=_sample_peak_rss, args=(process, peak), daemon=True)
    sampler.start()
    code = process.wait()
    exited = time.monotonic()
    sampler.join()
    output = log.read_text(encoding="utf-8", errors="replace")
    return Finished(code, output, exited, peak[0])


def _sample_peak_rss(process: subprocess.Popen[bytes], peak: list[float]) -> None:
    """Keep `peak[0]` at the process's high-water RSS in MB until it ends.

    The kernel's own figure for a child (wait4's ru_maxrss) counts the memory of
    the parent it was forked from, here the whole benchmark; VmHWM does not.
    """
    status = Path(f"/proc/{process.pid}/status")
    while process.returncode is None:
        try:
            for line in status.read_text(encoding="ascii").splitlines():
                if line.startswith("VmHWM:"):
                    peak[0] = max(peak[0], int(line.split()[1]) / 1024)  # kB
        except (OSError, ValueError):
            return
        time.sleep(0.05)


def apply_through(plan: Path, proxy: LimitsProxy) -> Finished:
    """Run `rollout apply` to its end through the proxy."""
    return finish(*start_apply(plan, proxy.url))


def lambda_fleet(moto: str, names: Sequence[str], *, second_version: bool) -> SandboxWorld:
    """Functions at version 1 behind alias `live`; with version 2 published beside it."""
    world = SandboxWorld(moto)
    for name in names:
        world.function(name)
        if second_version:
            world.lam.update_function_code(FunctionName=name, ZipFile=package(f"v2-{name}"))
            world.lam.publish_version(FunctionName=name)
    return world


def lambda_plan(
    folder: Path,
    functions: Sequence[str],
    strategy: str,
    *,
    code: str = "{version: '2'}",
    alarms: Sequence[str] = (),
    poll: float = 1.0,
) -> Path:
    """A one-region plan releasing `functions` with one strategy."""
    lines = [f"version: 1\nname: {folder.name}\nregions: [us-east-1]\ntargets:"]
    watched = f"\n    alarms: [{', '.join(alarms)}]" if alarms else ""
    for name in functions:
        lines.append(
            f"  - name: {name}\n"
            f"    lambda: {{function: {name}, alias: live, code: {code}}}\n"
            f"    strategy: {strategy}{watched}"
        )
    lines.append(f"alarms: {{poll_interval: {poll}s}}")
    plan = folder / "rollout.yaml"
    plan.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return plan


def new_folder(name: str) -> Path:
    """An empty folder whose name is also the rollout's name."""
    return Path(tempfile.mkdtemp(prefix=f"{name}-"))


# -- reading the proxy's log ---------------------------------------------------------------


def _routing_parts(exchange: Exchange) -> int:
    """How many versions an alias write sends traffic to."""
    sent = json.loads(exchange.body or b"{}")
    if "routingConfiguration" in sent:  # Step Functions
        return len(sent["routingConfiguration"])
    weights = (sent.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
    return 1 + len(weights)


def alias_writes(exchanges: Sequence[Exchange]) -> list[Exchange]:
    """The alias writes AWS accepted."""
    return [e for e in exchanges if e.call.operation in ALIAS_WRITES and e.ok]


def last_step_seconds(exchanges: Sequence[Exchange], service: str) -> float:
    """From the first request after the last split write to the last write to one version.

    The split step ends before a bake; the step to 100% is then the only work
    the service sees, so its span is one step's time, reads and writes included.
    """
    writes = alias_writes(exchanges)
    split_end = max(e.answered for e in writes if _routing_parts(e) > 1)
    full = [e.answered for e in writes if _routing_parts(e) == 1 and e.arrived > split_end]
    began = min(e.arrived for e in exchanges if e.call.service == service and e.arrived > split_end)
    return max(full) - began


def shift_step(moto: str, targets: int) -> StepFigures:
    """One traffic step across `targets` Lambda aliases in one region, at 15 requests/s."""
    folder = new_folder("shift")
    names = [f"{folder.name}-{n}" for n in range(targets)]
    lambda_fleet(moto, names, second_version=True)
    plan = lambda_plan(folder, names, STEPS_SPLIT_THEN_FULL)
    with limits_proxy(moto) as proxy:
        done = apply_through(plan, proxy)
    if not done.throttling_surfaced:
        _check(done, 0)
    # A release that throttling stopped has no step to time; the figure fails on the count.
    seconds = last_step_seconds(proxy.seen(), "lambda") if done.code == 0 else float("nan")
    return StepFigures(
        seconds,
        proxy.throttled(),
        done.throttling_surfaced,
        done.peak_rss_mb,
    )


def sfn_step(moto: str, machines: int) -> float:
    """Seconds of one traffic step across `machines` state machine aliases."""
    folder = new_folder("sfn")
    world = SandboxWorld(moto)
    definition = {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}}
    (folder / "flow.json").write_text(json.dumps(definition), encoding="utf-8")
    lines = [f"version: 1\nname: {folder.name}\nregions: [us-east-1]\ntargets:"]
    for n in range(machines):
        world.state_machine(f"{folder.name}-{n}")
        lines.append(
            f"  - name: m{n}\n"
            f"    stepfunctions: {{state_machine: {folder.name}-{n}, alias: prod, "
            "definition: flow.json}\n"
            f"    strategy: {STEPS_SPLIT_THEN_FULL}"
        )
    plan = folder / "rollout.yaml"
    plan.write_text("\n".join([*lines, "alarms: {poll_interval: 1s}"]) + "\n", encoding="utf-8")
    with limits_proxy(moto) as proxy:
        done = apply_through(plan, proxy)
    _check(done, 0)
    return last_step_seconds(proxy.seen(), "states")


def rollback_all(moto: str, targets: int) -> tuple[float, int]:
    """(seconds from the alarm to the last alias restored, throttled requests) for `targets`."""
    folder = new_folder("restore")
    names = [f"{folder.name}-{n}" for n in range(targets)]
    world = lambda_fleet(moto, names, second_version=True)
    alarm = f"{folder.name}-errors"
    world.alarm(alarm)
    plan = lambda_plan(
        folder, names, "{steps: [{weight: 10, pause: 10m}, {weight: 100}]}", alarms=[alarm]
    )
    with limits_proxy(moto) as proxy:
        process, log = start_apply(plan, proxy.url)

        def all_split() -> bool:
            return sum(_routing_parts(e) > 1 for e in alias_writes(proxy.seen())) >= targets

        wait_until(all_split, 600)
        time.sleep(0.5)
        fired = time.monotonic()
        world.set_alarm(alarm, "ALARM", "benchmark: errors above threshold")
        done = finish(process, log)
    _check(done, 3)
    restored = [e.answered for e in alias_writes(proxy.seen()) if e.arrived > fired]
    assert all(world.lambda_routing(name) == ("1", {}) for name in names), "not all restored"
    return max(restored) - fired, proxy.throttled(fired)


def publish(moto: str, targets: int, latency: float) -> tuple[float, float]:
    """(seconds to publish `targets` functions whose update takes `latency`, calls per target
    drawing on the 15/s bucket in that time)."""
    folder = new_folder("publish")
    names = [f"{folder.name}-{n}" for n in range(targets)]
    lambda_fleet(moto, names, second_version=False)
    (folder / "v2.zip").write_bytes(package("v2"))
    plan = lambda_plan(folder, names, "{steps: [{weight: 100}]}", code="{zip: v2.zip}")
    with limits_proxy(moto, Limits(update_latency=latency)) as proxy:
        done = apply_through(plan, proxy)
    _check(done, 0)
    seen = proxy.seen()
    began = min(e.arrived for e in seen if e.call.operation == "UpdateFunctionCode")
    ended = max(e.answered for e in seen if e.call.operation == "PublishVersion" and e.ok)
    limits = proxy.limits
    paced = [
        e
        for e in seen
        if began <= e.arrived <= ended
        and not e.throttled
        and limits.bucket_of(e.call) == limits.lambda_limit
    ]
    return ended - began, len(paced) / targets


def finish_overhang(moto: str, trials: int, poll: float = 5.0) -> float:
    """Median seconds from the last alias write to the process's exit."""
    samples = []
    for _ in range(trials):
        folder = new_folder("finish")
        names = [folder.name]
        lambda_fleet(moto, names, second_version=True)
        plan = lambda_plan(folder, names, "{steps: [{weight: 100}]}", poll=poll)
        with limits_proxy(moto) as proxy:
            done = apply_through(plan, proxy)
        _check(done, 0)
        samples.append(done.exited - max(e.answered for e in alias_writes(proxy.seen())))
    return statistics.median(samples)


def _check(done: Finished, expected: int) -> None:
    if done.code != expected:
        raise RuntimeError(f"rollout apply exited {done.code}, not {expected}:\n{done.output}")
