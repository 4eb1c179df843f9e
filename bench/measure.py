"""Every figure of bench/run, measured in one run against one emulator behind the limits proxy.

Each measurement reuses the bench script that already measured it; a
measurement that breaks is reported as an error and the others still run.
"""

from __future__ import annotations

import compileall
import random
import statistics
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from bench import (
    bench_alarm_rollback,
    bench_cli,
    bench_crash_matrix,
    bench_terraform_regions,
    traffic,
)
from bench.figures import Figure, Results
from bench.limits_proxy import limits_proxy
from rollout.sandbox import emulator

Say = Callable[[str], None]


@contextmanager
def reported(results: Results, say: Say, *names: str) -> Iterator[list[Figure]]:
    """Collect the figures a block measures, print each line; an error fails them all."""
    figures: list[Figure] = []
    try:
        yield figures
    except (Exception, SystemExit) as exc:  # the bench scripts exit when a release fails
        traceback.print_exc(file=sys.stderr)
        error = f"error: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        figures[:] = [Figure(name, float("nan"), refused=error) for name in names]
    for figure in figures:
        say(results.add(figure).line())


def measure_all(results: Results, say: Say) -> None:
    """Measure every figure into `results`, printing each as it comes."""
    size = results.sizes
    cli_figures(results, say)
    with emulator() as moto:
        with reported(results, say, "rollback_latency_p50_s", "rollback_latency_p95_s") as out:
            with limits_proxy(moto) as proxy:
                samples = sorted(
                    bench_alarm_rollback.rollback_latency(
                        proxy.url, int(size["latency_trials"]), 1.0, world_endpoint=moto
                    )
                )
            p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
            trials = f"{len(samples)} trials, poll_interval 1s"
            out += [
                Figure("rollback_latency_p50_s", statistics.median(samples), trials),
                Figure("rollback_latency_p95_s", p95, trials),
            ]
        with reported(results, say, "rollback_all_100_ratio") as out:
            targets = int(size["restore_targets"])
            seconds, throttled = traffic.rollback_all(moto, targets)
            detail = f"{targets} aliases in {seconds:.2f}s, {throttled} requests throttled"
            out.append(Figure("rollback_all_100_ratio", seconds / (targets / 15), detail))
        with reported(results, say, "shift_step_limit_ratio", "peak_rss_mb_200_targets") as out:
            targets = int(size["shift_targets"])
            step = traffic.shift_step(moto, targets)
            surfaced = f"{step.surfaced} throttling errors surfaced" if step.surfaced else ""
            out += [
                Figure(
                    "shift_step_limit_ratio",
                    step.seconds / (targets / 15),
                    f"{targets} aliases in {step.seconds:.2f}s, {step.throttled} requests "
                    f"throttled, {step.surfaced} throttling errors surfaced",
                    refused=surfaced,
                ),
                Figure(
                    "peak_rss_mb_200_targets",
                    step.peak_rss_mb,
                    f"peak RSS of `rollout apply` releasing {targets} targets",
                ),
            ]
        with reported(results, say, "publish_latency_ratio") as out:
            targets, latency = int(size["publish_targets"]), float(size["update_latency_s"])
            seconds, calls = traffic.publish(moto, targets, latency)
            floor = targets * calls / 15 + latency
            detail = (
                f"{targets} functions in {seconds:.2f}s; {calls:.2f} calls per target on the "
                f"15/s bucket, floor {floor:.2f}s"
            )
            out.append(Figure("publish_latency_ratio", seconds / floor, detail))
        with reported(results, say, "sfn_step_20_machines_s") as out:
            machines = int(size["sfn_machines"])
            seconds = traffic.sfn_step(moto, machines)
            out.append(Figure("sfn_step_20_machines_s", seconds, f"{machines} state machines"))
        with reported(results, say, "describe_alarms_calls_per_tick") as out:
            targets = int(size["alarm_targets"])
            with limits_proxy(moto) as proxy:
                calls, reads = bench_alarm_rollback.calls_per_tick(
                    proxy.url, targets, 0.5, world_endpoint=moto
                )
            detail = f"{targets} targets in 2 regions: {calls} calls over {reads} region ticks"
            out.append(Figure("describe_alarms_calls_per_tick", 2 * calls / max(reads, 1), detail))
        with reported(results, say, "finish_overhang_s") as out:
            trials = int(size["overhang_trials"])
            seconds = traffic.finish_overhang(moto, trials)
            out.append(Figure("finish_overhang_s", seconds, f"median of {trials}, poll 5s"))
        terraform_figure(results, say, moto)
        safety_figures(results, say, moto)


def cli_figures(results: Results, say: Say) -> None:
    """Start-up and validation, as processes of their own."""
    runs = int(results.sizes["cli_runs"])
    compile_package()
    with reported(results, say, "help_startup_ratio") as out:
        rollout = str(Path(sys.executable).with_name("rollout"))
        bare = statistics.median(bench_cli.timed_runs([sys.executable, "-c", "pass"], runs))
        helped = statistics.median(bench_cli.timed_runs([rollout, "--help"], runs))
        detail = f"median of {runs}: {helped * 1000:.0f} ms / {bare * 1000:.0f} ms"
        out.append(Figure("help_startup_ratio", helped / bare, detail))
    with reported(results, say, "validate_1000_targets_s") as out:
        targets = int(results.sizes["validate_targets"])
        with tempfile.TemporaryDirectory() as folder:
            plan = Path(folder) / "rollout.yaml"
            plan.write_text(bench_cli.generated_plan(targets, regions=3), encoding="utf-8")
            samples = bench_cli.timed_runs([rollout, "validate", "-f", str(plan)], runs)
        detail = f"{targets} targets in 3 regions, median of {runs}"
        out.append(Figure("validate_1000_targets_s", statistics.median(samples), detail))


def compile_package() -> None:
    """Write the package's bytecode, as installing a wheel does: under
    PYTHONDONTWRITEBYTECODE (set on many CI machines) an editable checkout would
    otherwise compile every module again in each timed run."""
    root = Path(__file__).resolve().parent.parent
    for package in ("rollout", "strategies"):
        compileall.compile_dir(root / package, quiet=1)


def terraform_figure(results: Results, say: Say, moto: str) -> None:
    """Regions' terraform side by side against one at a time, the real binary."""
    size = results.sizes
    regions = bench_terraform_regions.REGIONS[: int(size["terraform_regions"])]
    sleep, runs = int(size["terraform_sleep_s"]), int(size["terraform_runs"])
    with reported(results, say, "terraform_parallel_ratio") as out, limits_proxy(moto) as proxy:
        one_run = bench_terraform_regions.one_run
        parallel = [one_run(proxy.url, regions, len(regions), sleep, n) for n in range(runs)]
        serial = [one_run(proxy.url, regions, 1, sleep, n) for n in range(runs)]
        ratio = statistics.median(parallel) / statistics.median(serial)
        detail = (
            f"{len(regions)} regions, median of {runs}: {statistics.median(parallel):.1f}s "
            f"side by side, {statistics.median(serial):.1f}s one at a time"
        )
        out.append(Figure("terraform_parallel_ratio", ratio, detail))


def safety_figures(results: Results, say: Say, moto: str) -> None:
    """The crash matrix and the faulty network, through the limits proxy (they reset moto)."""
    size = results.sizes
    rng = random.Random(7)
    with reported(results, say, "crash_matrix_wrong_states") as out, limits_proxy(moto) as proxy:
        crashes = [bench_crash_matrix.one_crash(proxy.url, rng) for _ in range(size["crash_kills"])]
        wrong = [what for right, _, what in crashes if not right]
        detail = f"{len(crashes)} random kill points" + "".join(f"; WRONG: {w}" for w in wrong)
        out.append(Figure("crash_matrix_wrong_states", len(wrong), detail))
    with reported(results, say, "fault_proxy_wrong_states") as out, limits_proxy(moto) as proxy:
        faulty = [
            bench_crash_matrix.one_faulty_release(proxy.url, seed)
            for seed in range(int(size["faulty_releases"]))
        ]
        bad = [what for right, what in faulty if not right]
        detail = f"{len(faulty)} releases at 10% faults" + "".join(f"; WRONG: {b}" for b in bad)
        out.append(Figure("fault_proxy_wrong_states", len(bad), detail))
