"""Regions in waves: the regions of one wave in parallel (bounded), a failed wave stops the rest,
and the one rule that turns every region's ending into the rollout's."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from rollout.engine import events as ev
from rollout.engine.outcome import Outcome, RegionResult, worst
from rollout.engine.ports import Clock
from rollout.exitcodes import ExitCode

RegionRunner = Callable[[str], RegionResult]


@dataclass(frozen=True)
class RolloutResult:
    """Every region's result, the rollout's outcome, why, and the exit code it ends with."""

    regions: tuple[RegionResult, ...]
    outcome: Outcome
    message: str
    exit_code: ExitCode


def overall_outcome(results: Sequence[RegionResult]) -> Outcome:
    """The rollout's ending: exit 1 only when no traffic moved anywhere, 4 when regions serve
    different releases or need a look, 3 when every region that moved is back."""
    outcomes = [r.outcome for r in results]
    if all(outcome.fine for outcome in outcomes):
        return worst(outcomes)
    if Outcome.NEEDS_HUMAN in outcomes or Outcome.SUCCEEDED in outcomes:
        # Some regions serve the new release while others do not: a person decides.
        return Outcome.NEEDS_HUMAN
    if Outcome.ROLLED_BACK in outcomes:
        return Outcome.ROLLED_BACK
    return Outcome.FAILED_BEFORE_TRAFFIC


def count_outcomes(results: Sequence[RegionResult]) -> str:
    """`2 succeeded, 1 rolled back`."""
    counts: dict[str, int] = {}
    for result in results:
        counts[result.outcome.value] = counts.get(result.outcome.value, 0) + 1
    return ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in counts.items())


def stamped_sink(sink: ev.EventSink, clock: Clock, rollout_id: str | None = None) -> ev.EventSink:
    """A thread-safe sink that stamps each event with the wall-clock time and the rollout."""
    lock = threading.Lock()

    def emit(event: ev.Event) -> None:
        with lock:
            sink(replace(event, at=clock.now(), rollout_id=rollout_id))

    return emit


def run_waves(
    waves: Sequence[Sequence[str]],
    parallelism: int,
    run_region: RegionRunner,
    emit: ev.EventSink,
    on_failure: Callable[[RegionResult], None] = lambda _result: None,
) -> list[RegionResult]:
    """Run each wave's regions, at most `parallelism` at once; skip the waves after a failure.
    `on_failure` hears of each failed region as it ends, while its peers may still run."""
    results: list[RegionResult] = []
    failed = False
    for wave in waves:
        if failed:
            results += [_skipped(r, "not started: an earlier wave failed", emit) for r in wave]
            continue
        wave_results = _run_wave(wave, parallelism, run_region, emit, on_failure)
        results += wave_results
        failed = not all(r.outcome.fine for r in wave_results)
    return results


def _run_wave(
    wave: Sequence[str],
    parallelism: int,
    run_region: RegionRunner,
    emit: ev.EventSink,
    on_failure: Callable[[RegionResult], None],
) -> list[RegionResult]:
    """One wave's regions, at most `parallelism` at once. A region still waiting for its turn
    when a peer failed would release what is known bad: it is skipped, as a later wave is."""
    peer_failed = threading.Event()

    def run_in_turn(region: str) -> RegionResult:
        if peer_failed.is_set():
            return _skipped(region, "not started: another region of its wave failed", emit)
        result = _guarded(region, run_region, emit)
        if not result.outcome.fine:
            peer_failed.set()
            on_failure(result)
        return result

    with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
        return list(pool.map(run_in_turn, wave))


def _skipped(region: str, message: str, emit: ev.EventSink) -> RegionResult:
    emit(ev.RegionFinished(region=region, outcome=Outcome.SKIPPED.value, message=message))
    return RegionResult(region, Outcome.SKIPPED, message)


def _guarded(region: str, run_region: RegionRunner, emit: ev.EventSink) -> RegionResult:
    try:
        return run_region(region)
    except Exception as exc:  # a bug or an unexpected failure: the alias may be mid-shift
        message = f"unexpected {type(exc).__name__}: {exc}; check the aliases of {region}"
        emit(ev.RegionFinished(region=region, outcome=Outcome.NEEDS_HUMAN.value, message=message))
        return RegionResult(region, Outcome.NEEDS_HUMAN, message)
