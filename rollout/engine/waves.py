"""Regions in waves: the regions of one wave in parallel (bounded), a failed wave stops the rest."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from rollout.engine import events as ev
from rollout.engine.outcome import Outcome, RegionResult, worst
from rollout.engine.ports import Clock

RegionRunner = Callable[[str], RegionResult]
_FINE = (Outcome.SUCCEEDED, Outcome.NOTHING_TO_DO)


@dataclass(frozen=True)
class RolloutResult:
    """Every region's result and the rollout's overall outcome."""

    regions: tuple[RegionResult, ...]

    @property
    def outcome(self) -> Outcome:
        return worst([r.outcome for r in self.regions])

    def message(self) -> str:
        """One line: how many regions ended how."""
        counts: dict[str, int] = {}
        for result in self.regions:
            counts[result.outcome.value] = counts.get(result.outcome.value, 0) + 1
        return ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in counts.items())


def stamped_sink(sink: ev.EventSink, clock: Clock) -> ev.EventSink:
    """A thread-safe sink that stamps each event with the wall-clock time."""
    lock = threading.Lock()

    def emit(event: ev.Event) -> None:
        with lock:
            sink(replace(event, at=clock.now()))

    return emit


def run_waves(
    plan_name: str,
    waves: Sequence[Sequence[str]],
    parallelism: int,
    run_region: RegionRunner,
    emit: ev.EventSink,
) -> RolloutResult:
    """Run each wave's regions, at most `parallelism` at once; stop after a wave that failed."""
    emit(ev.RolloutStarted(plan=plan_name, waves=tuple(tuple(w) for w in waves)))
    results: list[RegionResult] = []
    failed = False
    for wave in waves:
        if failed:
            results += [RegionResult(r, Outcome.SKIPPED, "an earlier wave failed") for r in wave]
            continue
        with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
            wave_results = list(pool.map(lambda region: _guarded(region, run_region, emit), wave))
        results += wave_results
        failed = any(r.outcome not in _FINE for r in wave_results)
    result = RolloutResult(tuple(results))
    emit(
        ev.RolloutFinished(
            outcome=result.outcome.value,
            exit_code=int(result.outcome.exit_code),
            message=result.message(),
        )
    )
    return result


def _guarded(region: str, run_region: RegionRunner, emit: ev.EventSink) -> RegionResult:
    try:
        return run_region(region)
    except Exception as exc:  # a bug or an unexpected failure: the alias may be mid-shift
        message = f"unexpected {type(exc).__name__}: {exc}; check the aliases of {region}"
        emit(ev.RegionFinished(region=region, outcome=Outcome.NEEDS_HUMAN.value, message=message))
        return RegionResult(region, Outcome.NEEDS_HUMAN, message)
