"""After a crash, or on request: resume a recorded rollout, or restore its recorded routing."""

from __future__ import annotations

from dataclasses import dataclass, replace

from rollout.engine import events as ev
from rollout.engine.outcome import Outcome, RegionResult
from rollout.engine.ports import Clock, TargetError
from rollout.engine.waves import RolloutResult, run_waves, stamped_sink
from rollout.plan.load import LoadedPlan
from rollout.release import RegionWiring, Selection, chosen_targets, chosen_waves, region_engine
from rollout.state.model import TargetRecord
from rollout.state.session import RolloutSession, snapshot_of

RESTORABLE = ("published", "shifting", "done", "rolling_back", "rolled_back")


def resume_plan(
    loaded: LoadedPlan,
    selection: Selection,
    clock: Clock,
    sink: ev.EventSink,
    session: RolloutSession,
) -> RolloutResult:
    """Continue the rollout: unfinished regions from their last step, unstarted ones anew."""
    emit = stamped_sink(sink, clock)
    record = session.record

    def run_region(region: str) -> RegionResult:
        engine = region_engine(loaded, region, selection, clock, emit=emit, session=session)
        stored = record.regions.get(region)
        if stored is None:
            return engine.run()
        if stored.status in ("succeeded", "nothing_to_do"):
            emit(ev.RegionFinished(region=region, outcome=stored.status, message="already done"))
            return RegionResult(region, Outcome(stored.status), "already done")
        snapshots = {name: snapshot_of(target) for name, target in stored.targets.items()}
        return engine.resume(snapshots)

    plan = loaded.plan
    result = run_waves(plan.name, chosen_waves(plan, selection), plan.parallelism, run_region, emit)
    session.finish(result.outcome.value)
    return result


@dataclass(frozen=True)
class Restored:
    """What `rollback` did to one target."""

    region: str
    target: str
    outcome: str  # restored | already | drift | error
    detail: str


def roll_back_plan(
    loaded: LoadedPlan, selection: Selection, clock: Clock, session: RolloutSession
) -> list[Restored]:
    """Put every recorded alias back to its routing from before the rollout; idempotent."""
    results: list[Restored] = []
    names = {t.name for t in chosen_targets(loaded.plan, selection)}
    regions = {r for wave in chosen_waves(loaded.plan, selection) for r in wave}
    for region, stored in session.record.regions.items():
        if region not in regions:
            continue
        wiring = RegionWiring(loaded, region, selection, clock)
        for target in chosen_targets(loaded.plan, selection):
            record = stored.targets.get(target.name)
            if target.name not in names or record is None or record.status not in RESTORABLE:
                continue
            results.append(_restore(wiring, session, region, target.name, record))
        if all(r.outcome in ("restored", "already") for r in results if r.region == region):
            session.region_finished(region, "rolled_back", "restored by rollout rollback")
    return results


def _restore(
    wiring: RegionWiring, session: RolloutSession, region: str, name: str, record: TargetRecord
) -> Restored:
    if record.initial is None:
        return Restored(region, name, "already", "nothing was recorded to restore")
    target = next(t for t in wiring.loaded.plan.targets if t.name == name)
    snapshot = snapshot_of(record)
    initial = record.initial.routing()
    try:
        adapter = wiring.adapter(target)
        current = adapter.read_alias()
        if current is None:
            return Restored(region, name, "error", "the alias does not exist")
        if current.routing.same_as(initial):
            session.target(region, name, replace(snapshot, status="rolled_back"))
            return Restored(region, name, "already", initial.describe())
        ours = [r for r in (snapshot.last, snapshot.pending) if r is not None]
        if not any(r.same_as(current.routing) for r in ours):
            return Restored(
                region,
                name,
                "drift",
                f"the alias serves {current.routing.describe()}, which rollout did not set; "
                "left as it is",
            )
        session.target(region, name, replace(snapshot, status="rolling_back", pending=initial))
        adapter.update_alias(initial, current)
        restored = replace(snapshot, status="rolled_back", last=initial, pending=None)
        session.target(region, name, restored)
        return Restored(region, name, "restored", initial.describe())
    except TargetError as exc:
        return Restored(region, name, "error", str(exc))


def rollback_exit(results: list[Restored]) -> Outcome:
    """ROLLED_BACK when every alias is back, NEEDS_HUMAN otherwise."""
    if all(r.outcome in ("restored", "already") for r in results):
        return Outcome.ROLLED_BACK
    return Outcome.NEEDS_HUMAN
