"""A release over waves of regions, new or resumed, and the one place a rollout is finished.

`apply` and `resume` run the same waves of region pipelines; `rollback` runs
each recorded region's pipeline backwards. All of them end here: the record
is closed, the history appended and the final event carries the exit code
the process ends with.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence

from rollout.engine import events as ev
from rollout.engine.outcome import Outcome, RegionResult
from rollout.engine.waves import RolloutResult, count_outcomes, overall_outcome, run_waves
from rollout.exitcodes import ExitCode
from rollout.pipeline.build import Builder
from rollout.state.model import RolloutStatus
from rollout.state.session import RolloutSession

_DONE = (RolloutStatus.SUCCEEDED, RolloutStatus.NOTHING_TO_DO)


def run_release(
    builder: Builder, session: RolloutSession, emit: ev.EventSink, plan_file: str
) -> RolloutResult:
    """Run (or carry on with) the release, wave by wave; regions the record has done are kept."""
    plan = builder.plan
    waves = builder.selection.waves(plan)
    recorded = dict(session.record.regions)
    emit(ev.RolloutStarted(plan=plan.name, waves=tuple(tuple(w) for w in waves)))

    def run_region(region: str) -> RegionResult:
        stored = recorded.get(region)
        owed = stored is not None and any(t.status.backing_out for t in stored.targets.values())
        if stored is not None and stored.status in _DONE and not owed:
            message = "already done"
            emit(ev.RegionFinished(region=region, outcome=stored.status.value, message=message))
            serving = {n: t.last.routing().describe() for n, t in stored.targets.items() if t.last}
            return RegionResult(region, Outcome(stored.status.value), message, serving=serving)
        return builder.region(region).pipeline(emit, session, stored).run()

    def stop_peers(failed: RegionResult) -> None:
        # Every region is put back after such a failure: one still moving towards 100%
        # would only add traffic on the version just found bad before going back.
        ending = failed.outcome.value.replace("_", " ")
        session.stop_everywhere(
            f"another region of its wave failed ({failed.region} {ending}: {failed.message}) "
            "and the plan says on_wave_failure: rollback"
        )

    on_failure = stop_peers if plan.on_wave_failure == "rollback" else lambda _result: None
    results = run_waves(waves, plan.parallelism, run_region, emit, on_failure)
    for result in results:
        if result.outcome is Outcome.SKIPPED:  # never started, and ended all the same
            with contextlib.suppress(Exception):  # a lost store is reported when finishing
                session.region_finished(result.region, result.outcome, result.message)
    if plan.on_wave_failure == "rollback" and _some_released_some_not(results):
        results = [_undo_released(builder, session, emit, result) for result in results]
    outcome = overall_outcome(results)
    message = describe_ending(results, outcome, plan_file)
    # A run narrowed to some regions (`resume --region`) leaves the record open for the rest.
    everything = session.record.every_region_ended()
    return finish_rollout(session, results, emit, outcome, message, close_record=everything)


def _some_released_some_not(results: Sequence[RegionResult]) -> bool:
    outcomes = [r.outcome for r in results]
    return Outcome.SUCCEEDED in outcomes and not all(o.fine for o in outcomes)


def _undo_released(
    builder: Builder, session: RolloutSession, emit: ev.EventSink, result: RegionResult
) -> RegionResult:
    if result.outcome is not Outcome.SUCCEEDED:
        return result
    stored = session.record.regions.get(result.region)
    pipeline = builder.region(result.region).pipeline(emit, session, stored)
    return pipeline.roll_back("another region failed and the plan says on_wave_failure: rollback")


def describe_ending(results: Sequence[RegionResult], outcome: Outcome, plan_file: str) -> str:
    """One line: how many regions ended how and, when a person must decide, where each stands."""
    counts = count_outcomes(results)
    if outcome is not Outcome.NEEDS_HUMAN:
        return counts + _why(results)
    where = "; ".join(
        f"{r.region} {r.outcome.value.replace('_', ' ')}"
        + (f" ({', '.join(f'{t} serves {s}' for t, s in r.serving.items())})" if r.serving else "")
        for r in results
    )
    return (
        f"{counts}{_why(results)}. Where each region stands: {where}. "
        f"Either `rollout rollback -f {plan_file}` "
        "puts every region back on the routing recorded before this rollout, or fix the cause "
        f"and run `rollout apply -f {plan_file}` again"
    )


def _why(results: Sequence[RegionResult]) -> str:
    """`: us-east-1 rolled back: alarm api-errors (ALARM: …)`: the reason, on the last line too."""
    stopped = [r for r in results if not r.outcome.fine and r.outcome is not Outcome.SKIPPED]
    if not stopped:
        return ""
    reasons = "; ".join(
        f"{r.region} {r.outcome.value.replace('_', ' ')}: {r.message}" for r in stopped
    )
    return f" ({reasons})"


def finish_rollout(
    session: RolloutSession | None,
    results: Sequence[RegionResult],
    emit: ev.EventSink,
    outcome: Outcome,
    message: str,
    *,
    exit_code_of: Callable[[Outcome], ExitCode] = lambda outcome: outcome.exit_code,
    close_record: bool = True,
) -> RolloutResult:
    """Close the record (a store that fails makes it exit 4) and emit the final event."""
    if session is not None and close_record:
        error = session.finish(outcome)
        if error is not None:
            outcome = Outcome.NEEDS_HUMAN
            message = f"{message}; the state store failed, so the record is stale: {error}"
    code = exit_code_of(outcome)
    emit(ev.RolloutFinished(outcome=outcome.value, exit_code=int(code), message=message))
    return RolloutResult(tuple(results), outcome, message, code)
