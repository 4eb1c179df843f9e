"""`rollout rollback`: every recorded alias back on the routing it had before the rollout.

It works from the record, so regions and targets the plan no longer lists are
restored too; `--region R` restores R and leaves the record open for the rest.
A rollout still running elsewhere is asked to roll back itself first.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from rollout.commands.context import CommandContext
from rollout.commands.result import CommandResult, ran, said
from rollout.engine import events as ev
from rollout.engine.outcome import Outcome, RegionResult
from rollout.engine.ports import TargetError
from rollout.engine.waves import count_outcomes
from rollout.exitcodes import ExitCode
from rollout.pipeline.build import Builder
from rollout.pipeline.release import finish_rollout
from rollout.state.model import LOCK_SILENT_SECONDS, RolloutRecord, RolloutStatus, utcnow
from rollout.state.session import RolloutSession
from rollout.state.store import LockHeldError, StateError, StateStore, holder_is_dead

WAIT_FOR_HOLDER_SECONDS = 600.0
_NOTHING_LEFT = (RolloutStatus.ROLLED_BACK, RolloutStatus.NOTHING_TO_DO, RolloutStatus.FAILED)
REASON = "rollout rollback"


def rollback(
    context: CommandContext,
    sink: ev.EventSink,
    *,
    say: Callable[[str], None],
    on_start: Callable[[RolloutSession], None] = lambda _session: None,
) -> CommandResult:
    """Restore what the record says was changed; exit 0 when all of it is back, 4 otherwise."""
    context.whole_regions("roll back")
    store = context.store()
    holder = store.lock_holder(context.name)
    if context.selection.regions and holder is not None and not holder_is_dead(holder):
        return said(
            ExitCode.ERROR,
            f"error: a running rollout ({holder.describe()}) rolls back as a whole: run "
            "`rollout rollback` without --region, or `rollout abort`",
        )
    still_held = _holder_gone(context, store, say)
    if still_held is not None:
        return said(ExitCode.NEEDS_HUMAN, f"error: {still_held}", "nothing was restored")
    try:
        record = store.read(context.name)
    except StateError as exc:
        return said(ExitCode.NEEDS_HUMAN, f"error: {exc}", "nothing was restored")
    context.selection.checked(
        context.loaded.plan, recorded_regions=record.regions if record else ()
    )
    if record is None:
        return _nothing_recorded(context)
    regions = [region for region in record.regions if context.selection.has_region(region)]
    builder = context.builder()
    context.check_credentials(builder, regions)
    emit = context.stamped(sink, record.id)
    session = RolloutSession(store, record, context.clock)
    session.take_lock(say)
    try:
        session.rollback_begins(regions)
        on_start(session)
        emit(ev.RolloutStarted(plan=context.name, waves=(tuple(regions),)))
        results = _restore_regions(builder, session, emit, record, regions)
        back = all(r.outcome is Outcome.ROLLED_BACK for r in results)
        # The record closes once no region of it is left to restore, by this run or earlier.
        everything = all(stored.status in _NOTHING_LEFT for stored in record.regions.values())
        outcome = Outcome.ROLLED_BACK if back else Outcome.NEEDS_HUMAN
        result = finish_rollout(
            session,
            results,
            emit,
            outcome,
            count_outcomes(results) or "nothing recorded to restore",
            exit_code_of=_rollback_exit_code,
            close_record=everything,
        )
        return ran(result)
    finally:
        problem = session.release_lock()
        if problem is not None:
            say(f"warning: the lock could not be released ({problem})")


def _rollback_exit_code(outcome: Outcome) -> ExitCode:
    return ExitCode.OK if outcome is Outcome.ROLLED_BACK else ExitCode.NEEDS_HUMAN


def _restore_regions(
    builder: Builder,
    session: RolloutSession,
    emit: ev.EventSink,
    record: RolloutRecord,
    regions: list[str],
) -> list[RegionResult]:
    def restore(region: str) -> RegionResult:
        pipeline = builder.region(region).pipeline(emit, session, record.regions[region])
        return pipeline.roll_back(REASON)

    # Regions in parallel: a cancelled CI job leaves seconds, not minutes.
    with ThreadPoolExecutor(max_workers=max(1, builder.plan.parallelism)) as pool:
        return list(pool.map(restore, regions))


def _holder_gone(
    context: CommandContext, store: StateStore, say: Callable[[str], None]
) -> str | None:
    """Ask a live holder of the lock to roll back and wait for it; why not, if it never lets go."""
    holder = store.lock_holder(context.name)
    if holder is None or holder_is_dead(holder):
        return None
    if holder.problem is not None:  # nobody to ask: the lock file itself is damaged
        raise LockHeldError(holder, dead=False)
    say(f"asking the running rollout to roll back: {holder.describe()}")
    store.request_abort(context.name)
    clock = context.clock
    deadline = clock.monotonic() + WAIT_FOR_HOLDER_SECONDS
    while holder is not None:
        silent = holder.silent_for(utcnow())
        # A holder on another host whose pid we cannot check: one that stopped showing it is
        # alive will not answer either (a cancelled CI runner), and waiting only costs time.
        if holder.host != socket.gethostname() and silent > LOCK_SILENT_SECONDS:
            return (
                f"the rollout holding the lock went silent ({holder.describe()}); if it is "
                "gone, `rollout unlock --force`, then `rollout rollback`"
            )
        if clock.monotonic() > deadline:
            return f"the running rollout did not finish within {WAIT_FOR_HOLDER_SECONDS:g}s"
        clock.sleep(0.2)
        holder = store.lock_holder(context.name)
    return None


def _nothing_recorded(context: CommandContext) -> CommandResult:
    """No record: fine only if every alias of the plan could be read and none is split."""
    builder = context.builder()
    regions = [r for r in context.loaded.plan.regions if context.selection.has_region(r)]
    context.check_credentials(builder, regions)
    split, unread = [], []
    for region in regions:
        build = builder.region(region)
        for target in context.loaded.plan.targets:
            try:
                alias = build.target_run(target, build.scope).adapter.read_alias()
            except ValueError:
                continue  # a name that needs values no stage gave: no alias was ever made
            except TargetError as exc:
                unread.append(f"{region} {target.name}: {exc}")
                continue
            if alias is not None and len(alias.routing.shares()) > 1:
                split.append(f"{region} {target.name} serves {alias.routing.describe()}")
    if split or unread:
        found = f"but {'; '.join(split)}" if split else "and not every alias could be read"
        return said(
            ExitCode.NEEDS_HUMAN,
            f"error: no rollout of {context.name!r} is recorded, {found}",
            *(f"error: {line}" for line in unread),
            "the record of the routing to restore is gone (another state store? a deleted "
            "state folder?); set the alias by hand or point rollout at the store that has it",
            split=split,
            unread=unread,
        )
    return said(
        ExitCode.OK,
        f"no rollout of {context.name!r} is recorded, and no alias of the plan is split: "
        "nothing to restore",
    )
