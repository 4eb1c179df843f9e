"""Requests to a running rollout (`abort`, `promote`) and the lock (`unlock`).

A request only makes sense while a live process holds the lock; without one,
these commands say so instead of writing a request nobody will read.
"""

from __future__ import annotations

from dataclasses import dataclass

from rollout.commands.context import CommandContext
from rollout.commands.result import CommandResult, said
from rollout.exitcodes import ExitCode
from rollout.state.model import LockHolder, RolloutRecord
from rollout.state.session import promotion_key
from rollout.state.store import StateStore, holder_is_dead


class UnknownTargetError(ValueError):
    """`promote --target` or `--region` names no target or region of the rollout."""


@dataclass(frozen=True)
class Running:
    """The rollout in flight, and the process that runs it."""

    record: RolloutRecord
    holder: LockHolder


def _running(context: CommandContext, store: StateStore) -> Running | CommandResult:
    record = store.read(context.name)
    holder = store.lock_holder(context.name)
    plan = context.plan_file
    if record is None or not record.unfinished:
        return said(ExitCode.ERROR, f"error: no rollout of {context.name!r} is in flight")
    if holder is None or holder_is_dead(holder):
        gone = f" (its process, {holder.describe()}, is no longer running)" if holder else ""
        return said(
            ExitCode.ERROR,
            f"error: rollout {record.id} is unfinished but no running process holds it{gone}; "
            f"`rollout resume -f {plan}` carries it on, `rollout rollback -f {plan}` undoes it",
        )
    return Running(record, holder)


def abort(context: CommandContext) -> CommandResult:
    """Ask the running rollout to roll back."""
    store = context.store()
    running = _running(context, store)
    if isinstance(running, CommandResult):
        return running
    store.request_abort(context.name)
    return said(
        ExitCode.OK,
        f"asked rollout {running.record.id} ({running.holder.describe()}) to roll back",
    )


def promote(
    context: CommandContext,
    targets: tuple[str, ...],
    *,
    full: bool,
    regions: tuple[str, ...] = (),
) -> CommandResult:
    """Release the manual pause the chosen targets (in the chosen regions) wait at now, or go
    to 100% with `full`."""
    store = context.store()
    recorded = store.read(context.name)
    _check_names(context, recorded, regions, targets)
    running = _running(context, store)
    if isinstance(running, CommandResult):
        return running
    record = running.record
    requests = store.read_requests(context.name)
    if full:
        store.write_requests(context.name, requests.model_copy(update={"promote_full": True}))
        return said(
            ExitCode.OK,
            f"asked rollout {record.id} to go to 100% now, skipping every remaining step and bake",
        )
    waiting = {
        promotion_key(region, name): target.step
        for region, stored in record.regions.items()
        for name, target in stored.targets.items()
        if target.paused and (not targets or name in targets) and (not regions or region in regions)
    }
    if not waiting:
        return said(
            ExitCode.ERROR,
            "error: no target is waiting at a manual pause now; `promote` releases one only "
            "while it waits (a timed pause ends by itself; `promote --full` skips the rest)",
        )
    promotions = {**requests.promotions, **waiting}
    store.write_requests(context.name, requests.model_copy(update={"promotions": promotions}))
    return said(
        ExitCode.OK,
        f"asked rollout {record.id} to go past the manual pause of {', '.join(sorted(waiting))}",
        promoted=sorted(waiting),
    )


def _check_names(
    context: CommandContext,
    recorded: RolloutRecord | None,
    regions: tuple[str, ...],
    targets: tuple[str, ...],
) -> None:
    """Every --region and --target names one of the plan's or the record's (a usage error)."""
    plan = context.loaded.plan
    known_regions = set(plan.regions) | set(recorded.regions if recorded else ())
    known_targets = {t.name for t in plan.targets}
    if recorded is not None:
        known_targets |= {name for stored in recorded.regions.values() for name in stored.targets}
    for asked, known, what in (
        (regions, known_regions, "region"),
        (targets, known_targets, "target"),
    ):
        unknown = [name for name in asked if name not in known]
        if unknown:
            raise UnknownTargetError(
                f"no {what} named {unknown[0]!r} (the plan and the record have "
                f"{', '.join(sorted(known))})"
            )


def unlock(context: CommandContext, *, force: bool) -> CommandResult:
    """Show the lock's holder; with `force`, break the lock."""
    store = context.store()
    holder = store.lock_holder(context.name)
    if holder is None:
        return said(ExitCode.OK, f"{context.name!r} is not locked")
    lines = [f"locked by {holder.describe()}"]
    if not force:
        return said(ExitCode.ERROR, *lines, "pass --force to break the lock")
    store.break_lock(context.name)
    return said(ExitCode.OK, *lines, "lock broken")
