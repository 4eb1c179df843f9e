"""`apply` and `resume`: take the lock, check everything before anything moves, run the waves.

Both finish through `run_release`, so the record, the history and the final
event's exit code are written the same way whether a release is new or resumed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from rollout.clock import SystemClock
from rollout.commands.context import CommandContext
from rollout.commands.inspect import LivePlan, read_live_plan
from rollout.commands.result import CommandResult, ran, said
from rollout.commands.rollback import rollback
from rollout.engine import events as ev
from rollout.engine.ports import TargetStatus
from rollout.engine.waves import RolloutResult
from rollout.exitcodes import ExitCode
from rollout.pipeline.build import Builder
from rollout.pipeline.release import run_release
from rollout.pipeline.selection import Selection
from rollout.plan.fingerprint import changed_parts, plan_hash, plan_parts
from rollout.plan.load import LoadedPlan
from rollout.state.model import RolloutRecord, RolloutStatus
from rollout.state.session import RolloutSession
from rollout.state.store import StateError, holder_is_dead

Say = Callable[[str], None]
SessionStarted = Callable[[RolloutSession], None]


def _nothing(_session: RolloutSession) -> None:
    return None


def apply(
    context: CommandContext,
    sink: ev.EventSink,
    *,
    say: Say,
    confirm: Callable[[LivePlan], bool] | None = None,
    discard_record: bool = False,
    on_start: SessionStarted = _nothing,
) -> CommandResult:
    """A new release: refused while an earlier one is unfinished or anything would stop it."""
    parts = plan_parts(context.loaded.plan)
    store, builder = context.store(), context.builder()
    session = RolloutSession.start(
        store, context.name, context.clock, plan_hash=plan_hash(parts), plan_parts=parts
    )

    def ready() -> CommandResult | None:
        earlier = store.read(context.name)
        refused = _unfinished_record(context, earlier, discard_record)
        if refused is not None:
            return refused
        live = read_live_plan(builder)
        if live.problems:
            return said(
                ExitCode.ERROR,
                *(f"error: {problem}" for problem in live.problems),
                "error: nothing was changed: every region of every wave is checked before the "
                "first one moves",
                problems=list(live.problems),
            )
        if confirm is not None and not confirm(live):
            return said(ExitCode.ERROR, "error: not confirmed; nothing was changed")
        if earlier is not None and earlier.unfinished:  # --discard-record, and all is ready
            store.append_history(earlier)
            say(f"the unfinished record of rollout {earlier.id} was moved to the history")
        selection = builder.selection
        session.begin(
            [region for wave in selection.waves(builder.plan) for region in wave],
            list(selection.targets),
        )
        return None

    return _release_locked(
        builder,
        session,
        context.stamped(sink, session.record.id),
        say=say,
        on_start=on_start,
        ready=ready,
    )


def apply_unattended(
    loaded: LoadedPlan, endpoint_url: str | None, sink: ev.EventSink
) -> RolloutResult | None:
    """`apply --yes` with nothing said but events (the demo, benchmarks); None when refused."""
    context = CommandContext(loaded, Selection(), SystemClock(), endpoint_url)
    return apply(context, sink, say=lambda _line: None).rollout


def _release_locked(
    builder: Builder,
    session: RolloutSession,
    emit: ev.EventSink,
    *,
    say: Say,
    on_start: SessionStarted,
    ready: Callable[[], CommandResult | None] = lambda: None,
) -> CommandResult:
    """Under the lock: `ready` may refuse; then the waves run and the lock is given back."""
    session.take_lock(say)
    try:
        refused = ready()
        if refused is not None:
            return refused
        on_start(session)
        return ran(run_release(builder, session, emit, str(builder.loaded.file)))
    finally:
        problem = session.release_lock()
        if problem is not None:
            say(f"warning: the lock could not be released ({problem}); `rollout unlock --force`")


def _unfinished_record(
    context: CommandContext, record: RolloutRecord | None, discard: bool
) -> CommandResult | None:
    """A refusal when the last rollout never finished, unless told to discard its record."""
    if record is None or not record.unfinished or discard:
        return None
    first, advice = _unfinished_lines(context, record)
    return said(ExitCode.NEEDS_HUMAN, f"error: {first}", advice, unfinished_rollout=record.id)


def live_plan(context: CommandContext) -> LivePlan:
    """What `apply` would meet now: AWS as it is, and first whatever would make it refuse."""
    live = read_live_plan(context.builder())
    unfinished = unfinished_problem(context)
    if unfinished is None:
        return live
    return replace(live, problems=(unfinished, *live.problems))


def unfinished_problem(context: CommandContext) -> str | None:
    """What `plan` says when `apply` would refuse an unfinished record, or the store's error."""
    store = context.store()
    try:
        record = store.read(context.name)
        holder = store.lock_holder(context.name)
    except StateError as exc:
        return f"state store: {exc}"
    if holder is not None and not holder_is_dead(holder):
        return f"another rollout holds the lock: {holder.describe()}"
    if record is None or not record.unfinished:
        return None
    return "; ".join(_unfinished_lines(context, record))


def _unfinished_lines(context: CommandContext, record: RolloutRecord) -> tuple[str, str]:
    plan = context.plan_file
    return (
        f"rollout {record.id} of {context.name!r} never finished (started "
        f"{record.started_at:%Y-%m-%d %H:%M:%S}Z); its record is the only memory of the "
        "routing to restore",
        f"`rollout rollback -f {plan}` restores that routing, `rollout resume -f {plan}` "
        "finishes it; `rollout apply --discard-record` moves the record to the history and "
        "starts anew",
    )


def resume(
    context: CommandContext,
    sink: ev.EventSink,
    *,
    say: Say,
    force: bool = False,
    on_start: SessionStarted = _nothing,
) -> CommandResult:
    """Carry on with an unfinished rollout, with the plan it began with (or --force)."""
    context.whole_regions("resume")
    store = context.store()
    record = store.read(context.name)
    if record is None:
        return said(ExitCode.ERROR, f"no rollout of {context.name!r} is recorded")
    if not record.unfinished:
        # Ended, but needing a look: resuming cannot help, and CI must not read it as fine.
        code = ExitCode.NEEDS_HUMAN if record.status is RolloutStatus.NEEDS_HUMAN else ExitCode.OK
        return said(
            code,
            f"the last rollout of {context.name!r} ({record.id}) ended: "
            f"{record.status.value}; nothing to resume",
        )
    owed = record.rollback_owed()
    if owed:  # a `rollout rollback` was cut short: finish it before anything else
        say(f"finishing the rollback of {', '.join(owed)} that was cut short")
        narrowed = replace(context, selection=Selection(tuple(owed)))
        return rollback(narrowed, sink, say=say, on_start=on_start)
    refused = _refuse_edited_plan(context, record, force) or _refuse_missing(context, record)
    if refused is not None:
        return refused
    for line in _forced_edits(context, record):
        say(line)
    # Carry on with what the rollout set out to do, narrowed further by --region if given.
    planned = Selection(
        tuple(
            r
            for r in (record.planned_regions or context.loaded.plan.regions)
            if context.selection.has_region(r)
        ),
        tuple(record.planned_targets),
    )
    builder = Builder(context.loaded, planned, context.clock, context.endpoint_url)
    context.check_credentials(builder, [r for w in planned.waves(builder.plan) for r in w])
    session = RolloutSession(store, record, context.clock)
    emit = context.stamped(sink, record.id)
    return _release_locked(builder, session, emit, say=say, on_start=on_start)


def _refuse_edited_plan(
    context: CommandContext, record: RolloutRecord, force: bool
) -> CommandResult | None:
    if force or not record.plan_parts:  # records of older versions kept no fingerprints
        return None
    changed = changed_parts(record.plan_parts, plan_parts(context.loaded.plan))
    if not changed:
        return None
    return said(
        ExitCode.ERROR,
        f"error: the plan changed since rollout {record.id} began: {', '.join(changed)}",
        "resume with the plan the rollout began with, `rollout rollback` to undo it, or "
        "`rollout resume --force` to carry on with the plan as it is now",
        changed=changed,
    )


def _forced_edits(context: CommandContext, record: RolloutRecord) -> list[str]:
    """What `resume --force` takes from the edited plan, and what it leaves for `apply`."""
    plan = context.loaded.plan
    changed = changed_parts(record.plan_parts, plan_parts(plan)) if record.plan_parts else []
    if not changed:
        return []
    lines = [
        f"warning: carrying on with the edited plan ({', '.join(changed)}): strategies, alarms "
        "and hooks apply as edited; names already recorded are kept"
    ]
    if any(part.startswith("terraform") for part in changed):
        kept = [
            region
            for region, stored in record.regions.items()
            if stored.terraform is not None and stored.terraform.status.finished
        ]
        rest = [r for r in (record.planned_regions or plan.regions) if r not in kept]
        lines.append(
            f"warning: the terraform section changed: {', '.join(kept) or 'no region'} keep "
            f"what terraform applied before (not run again); {', '.join(rest) or 'no region'} "
            "apply the edited configuration"
        )
    regions = [
        r for r in plan.regions if record.planned_regions and r not in record.planned_regions
    ]
    targets = [
        t.name
        for t in plan.targets
        if record.planned_targets and t.name not in record.planned_targets
    ]
    if regions or targets:
        added = ", ".join([*regions, *targets])
        lines.append(
            f"warning: not released by this resume: {added} (the rollout did not set out to "
            "release them); run `rollout apply` once it has finished"
        )
    return lines


def _refuse_missing(context: CommandContext, record: RolloutRecord) -> CommandResult | None:
    """Resume needs a strategy for every target it carries on: the plan must still have the
    regions and targets that have not ended (one restored by `rollback` has)."""
    plan = context.loaded.plan
    names = {t.name for t in plan.targets}
    open_regions = {
        r: s for r, s in record.regions.items() if s.status is RolloutStatus.IN_PROGRESS
    }
    missing = sorted(
        {f"region {r}" for r in open_regions if r not in plan.regions}
        | {
            f"target {name}"
            for stored in open_regions.values()
            for name, target in stored.targets.items()
            if name not in names and target.status is not TargetStatus.ROLLED_BACK
        }
    )
    if not missing:
        return None
    return said(
        ExitCode.ERROR,
        f"error: rollout {record.id} changed {', '.join(missing)}, which the plan no longer "
        "has; `rollout rollback` restores them",
        missing=missing,
    )
