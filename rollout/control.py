"""The commands that act on a recorded rollout: status, rollback, resume, promote, abort, unlock.

Each returns what to tell the user and an exit code; the CLI only prints.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from rollout.engine import events as ev
from rollout.engine.ports import Clock
from rollout.exitcodes import ExitCode
from rollout.plan.load import LoadedPlan
from rollout.recovery import resume_plan, roll_back_plan, rollback_exit
from rollout.release import RegionWiring, Selection, chosen_targets
from rollout.state.backends import open_store
from rollout.state.model import RolloutRecord
from rollout.state.session import RolloutSession
from rollout.state.store import LockHeldError, StateStore, holder_is_dead

WAIT_FOR_HOLDER_SECONDS = 600.0


@dataclass
class Report:
    """Lines for the user and the exit code."""

    code: ExitCode
    lines: list[str] = field(default_factory=list)


def _no_record(name: str) -> Report:
    return Report(ExitCode.ERROR, [f"no rollout of {name!r} is recorded in the state store"])


def _take_lock(store: StateStore, session: RolloutSession, say: Callable[[str], None]) -> None:
    """Enter the session, taking over a lock whose holder has died on this host."""
    try:
        session.__enter__()
    except LockHeldError as held:
        if not held.dead:
            raise
        say(
            f"taking over the lock of a process that is no longer running: {held.holder.describe()}"
        )
        store.break_lock(session.record.plan)
        session.__enter__()


def rollback(
    loaded: LoadedPlan, selection: Selection, clock: Clock, say: Callable[[str], None]
) -> Report:
    """Restore the recorded routing; a rollout in flight elsewhere is asked to, then checked."""
    store = open_store(loaded, selection.endpoint_url)
    name = loaded.plan.name
    holder = store.lock_holder(name)
    if holder is not None and not holder_is_dead(holder):
        say(f"asking the running rollout to roll back: {holder.describe()}")
        _request(store, name, abort=True)
        if not _wait_for_release(store, name, clock):
            return Report(
                ExitCode.NEEDS_HUMAN,
                [f"the running rollout did not finish within {WAIT_FOR_HOLDER_SECONDS:g}s"],
            )
    record = store.read(name)
    if record is None:
        return _no_record(name)
    session = RolloutSession(store, record, clock)
    _take_lock(store, session, say)
    try:
        results = roll_back_plan(loaded, selection, clock, session)
        outcome = rollback_exit(results)
        session.finish(outcome.value)
    finally:
        session.__exit__()
    lines = [f"{r.region} {r.target}: {r.outcome}: {r.detail}" for r in results]
    if not results:
        lines.append("nothing recorded to restore")
    return Report(outcome.exit_code if results else ExitCode.OK, lines)


def resume(
    loaded: LoadedPlan,
    selection: Selection,
    clock: Clock,
    sink: ev.EventSink,
    *,
    say: Callable[[str], None],
    on_start: Callable[[RolloutSession], None] = lambda _session: None,
) -> Report:
    """Continue a rollout whose process died, from its last recorded step."""
    store = open_store(loaded, selection.endpoint_url)
    name = loaded.plan.name
    record = store.read(name)
    if record is None:
        return _no_record(name)
    if record.status != "in_progress":
        return Report(
            ExitCode.OK,
            [
                f"the last rollout of {name!r} ({record.id}) ended: {record.status}; "
                "nothing to resume"
            ],
        )
    session = RolloutSession(store, record, clock)
    _take_lock(store, session, say)
    on_start(session)
    try:
        result = resume_plan(loaded, selection, clock, sink, session)
    finally:
        session.__exit__()
    return Report(result.outcome.exit_code)


def _request(store: StateStore, name: str, **changes: object) -> None:
    requests = store.read_requests(name)
    updated = requests.model_copy(update=changes)
    store.write_requests(name, updated)


def _in_flight(store: StateStore, name: str) -> RolloutRecord | None:
    record = store.read(name)
    holder = store.lock_holder(name)
    if record is None or record.status != "in_progress" or holder is None:
        return None
    return record


def _wait_for_release(store: StateStore, name: str, clock: Clock) -> bool:
    deadline = clock.monotonic() + WAIT_FOR_HOLDER_SECONDS
    while store.lock_holder(name) is not None:
        if clock.monotonic() > deadline:
            return False
        clock.sleep(0.2)
    return True


def abort(loaded: LoadedPlan, endpoint_url: str | None) -> Report:
    """Ask the running apply to roll back."""
    store = open_store(loaded, endpoint_url)
    name = loaded.plan.name
    if _in_flight(store, name) is None:
        return Report(ExitCode.ERROR, [f"no rollout of {name!r} is in flight"])
    _request(store, name, abort=True)
    return Report(ExitCode.OK, [f"asked the running rollout of {name!r} to roll back"])


def promote(
    loaded: LoadedPlan, targets: tuple[str, ...], endpoint_url: str | None, *, full: bool
) -> Report:
    """Release a manual pause (of the given targets, or all), or go to 100% now with `full`."""
    store = open_store(loaded, endpoint_url)
    name = loaded.plan.name
    if _in_flight(store, name) is None:
        return Report(ExitCode.ERROR, [f"no rollout of {name!r} is in flight"])
    requests = store.read_requests(name)
    if full:
        requests = requests.model_copy(update={"promote_full": True})
        said = "to go to 100% now, skipping every remaining step and bake"
    else:
        promotions = dict(requests.promotions)
        for target in targets or ("*",):
            promotions[target] = promotions.get(target, 0) + 1
        requests = requests.model_copy(update={"promotions": promotions})
        said = f"to go past the manual pause of {', '.join(targets) or 'every target'}"
    store.write_requests(name, requests)
    return Report(ExitCode.OK, [f"asked the running rollout of {name!r} {said}"])


def unlock(loaded: LoadedPlan, endpoint_url: str | None, *, force: bool) -> Report:
    """Show the lock's holder; with `force`, break the lock."""
    store = open_store(loaded, endpoint_url)
    name = loaded.plan.name
    holder = store.lock_holder(name)
    if holder is None:
        return Report(ExitCode.OK, [f"{name!r} is not locked"])
    lines = [f"locked by {holder.describe()}"]
    if not force:
        return Report(ExitCode.ERROR, [*lines, "pass --force to break the lock"])
    store.break_lock(name)
    return Report(ExitCode.OK, [*lines, "lock broken"])


def history(loaded: LoadedPlan, endpoint_url: str | None) -> Report:
    """Past rollouts of the plan's name, oldest first."""
    records = open_store(loaded, endpoint_url).history(loaded.plan.name)
    lines = [
        f"{r.started_at:%Y-%m-%d %H:%M:%S}Z {r.id} {r.status} "
        f"({', '.join(f'{region}: {reg.status}' for region, reg in r.regions.items())})"
        for r in records
    ]
    return Report(ExitCode.OK, lines or ["no rollouts recorded"])


def status(loaded: LoadedPlan, selection: Selection, clock: Clock) -> Report:
    """Live alias routing of every target, and the rollout in flight if any (exit 5)."""
    store = open_store(loaded, selection.endpoint_url)
    name = loaded.plan.name
    record = store.read(name)
    holder = store.lock_holder(name)
    lines = []
    if record is not None:
        lines.append(f"last rollout {record.id}: {record.status}")
    if holder is not None:
        lines.append(f"locked by {holder.describe()}")
    for region in loaded.plan.regions:
        if selection.regions and region not in selection.regions:
            continue
        wiring = RegionWiring(loaded, region, selection, clock)
        stored = record.regions.get(region) if record else None
        for target in chosen_targets(loaded.plan, selection):
            alias = wiring.adapter(target).read_alias()
            live = alias.routing.describe() if alias else "no alias"
            step = stored.targets.get(target.name) if stored else None
            where = f", {step.status} at step {step.step}" if step else ""
            lines.append(f"{region} {target.name}: serves {live}{where}")
    in_progress = record is not None and record.status == "in_progress"
    return Report(ExitCode.IN_PROGRESS if in_progress else ExitCode.OK, lines)
