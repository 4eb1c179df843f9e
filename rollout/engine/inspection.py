"""What a region's release would do, read from AWS before anything changes.

`rollout plan` shows it; `rollout apply` inspects every region of every wave
and refuses to start while any of them has a problem, so a firing alarm in
wave 2 stops the release before wave 1 moves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rollout.engine.alarm_watch import MISSING, AlarmPolicy, AlarmWatch
from rollout.engine.ports import AlarmReader, Clock, TargetError
from rollout.engine.progress import TargetRun
from rollout.engine.routing import AliasState

LATEST = "$LATEST"


def alias_problem(target: str, alias: AliasState | None, replace_split: bool) -> str | None:
    """Why an alias must not be released from as it stands, or None."""
    if alias is None:
        return None
    routing = alias.routing
    if LATEST in routing.shares():
        return (
            f"{target}: the alias points at $LATEST: updating the code would move all of its "
            "traffic at once and no rollback could undo it; point the alias at a published "
            "version first"
        )
    if len(routing.shares()) > 1 and not replace_split:
        return (
            f"{target}: the alias is already split ({routing.describe()}), as if another "
            "release were in flight; finish or undo it, or set `on_split_alias: replace` to "
            f"release from version {routing.base.rsplit(':', 1)[-1]}"
        )
    return None


@dataclass(frozen=True)
class TargetInspection:
    """One target: what its alias serves now and what a release would publish."""

    target: str
    current: str
    summary: str
    changed: bool
    problem: str | None = None


@dataclass(frozen=True)
class RegionInspection:
    """One region's targets and alarms, and what would stop a release there."""

    region: str
    targets: tuple[TargetInspection, ...]
    alarms: tuple[tuple[str, str], ...]  # (alarm, state or MISSING)
    problems: tuple[str, ...]

    @property
    def changes_pending(self) -> bool:
        return any(t.changed for t in self.targets)


def inspect_region(
    region: str,
    targets: Sequence[TargetRun],
    alarms: AlarmReader,
    policy: AlarmPolicy,
    clock: Clock,
    *,
    values: Mapping[str, str],
    replace_split: bool,
) -> RegionInspection:
    """Read every target's alias and release, and every watched alarm; change nothing."""
    known = dict(values)
    inspected = tuple(_inspect_target(target, known, replace_split) for target in targets)
    problems = [f"{region} {t.problem}" for t in inspected if t.problem]
    names = sorted({name for target in targets for name in target.alarms})
    states = dict(alarms.states(names)) if names else {}
    watch = AlarmWatch(region, names, alarms, policy, clock, lambda _event: None)
    for name in names:
        state = states.get(name, MISSING)
        if state == MISSING:
            problems.append(f"{region}: watched alarm {name} does not exist")
        elif watch.failing(state):
            problems.append(f"{region}: alarm {name} is in {state}: no traffic may move")
    alarm_states = tuple((name, states.get(name, MISSING)) for name in names)
    return RegionInspection(region, inspected, alarm_states, tuple(problems))


def _inspect_target(
    target: TargetRun, known: dict[str, str], replace_split: bool
) -> TargetInspection:
    adapter = target.adapter
    try:
        adapter.check_inputs()
        release = adapter.prepare(known)
        alias = release.alias
        if release.changed:
            # Later targets may pin this one's new version; it has no number until apply.
            known[f"targets.{target.name}.version"] = f"(new version of {target.name})"
            known[f"targets.{target.name}.version_arn"] = f"(new version of {target.name})"
        elif alias is not None:
            served = alias.routing.base
            known[f"targets.{target.name}.version"] = served.rsplit(":", 1)[-1]
            known[f"targets.{target.name}.version_arn"] = adapter.version_arn(served)
    except TargetError as exc:
        failed = f"{target.name}: {exc}"
        return TargetInspection(target.name, "unknown", f"error: {exc}", False, failed)
    current = alias.routing.describe() if alias else "no alias yet (first deploy creates it)"
    changed, summary = release.changed, release.summary
    if not changed and alias is not None and replace_split and len(alias.routing.shares()) > 1:
        changed, summary = True, f"{summary}; the rest of the split alias moves to it"
    problem = alias_problem(target.name, alias, replace_split)
    return TargetInspection(target.name, current, summary, changed, problem)
