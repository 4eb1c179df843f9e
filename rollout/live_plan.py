"""The live `rollout plan`: reads aliases, what would be published, and alarms; changes nothing."""

from __future__ import annotations

from dataclasses import dataclass

from rollout.engine.ports import Clock, TargetError
from rollout.plan.load import LoadedPlan
from rollout.plan.model import Target
from rollout.plan.placeholders import render_known
from rollout.release import RegionWiring, Selection, chosen_targets, chosen_waves


@dataclass(frozen=True)
class TargetStatus:
    """One target in one region: what its alias serves now and what apply would publish."""

    region: str
    target: str
    current: str
    release: str
    changed: bool


@dataclass(frozen=True)
class LivePlan:
    """What AWS reports, per region and target, and the problems that would stop apply."""

    targets: tuple[TargetStatus, ...]
    alarms: tuple[tuple[str, str, str], ...]  # (region, alarm, state or MISSING)
    problems: tuple[str, ...]

    @property
    def changes_pending(self) -> bool:
        return any(t.changed for t in self.targets)


def read_live_plan(loaded: LoadedPlan, selection: Selection, clock: Clock) -> LivePlan:
    """Read every selected region's aliases, releases and alarms."""
    statuses: list[TargetStatus] = []
    alarms: list[tuple[str, str, str]] = []
    problems: list[str] = []
    targets = chosen_targets(loaded.plan, selection)
    for wave in chosen_waves(loaded.plan, selection):
        for region in wave:
            wiring = RegionWiring(loaded, region, selection, clock)
            values = {"region": region}
            for target in targets:
                status = _target_status(wiring, target.name, values, target)
                statuses.append(status)
                if status.release.startswith("error:"):
                    problems.append(f"{region} {target.name}: {status.release[7:]}")
            names = sorted({render_known(a, values) for t in targets for a in t.alarms})
            states = wiring.alarms().states(names) if names else {}
            for name in names:
                state = states.get(name, "MISSING")
                alarms.append((region, name, state))
                if state == "MISSING":
                    problems.append(f"{region}: watched alarm {name} does not exist")
                elif state == "ALARM":
                    problems.append(f"{region}: alarm {name} is in ALARM; apply would refuse")
    return LivePlan(tuple(statuses), tuple(alarms), tuple(problems))


def _target_status(
    wiring: RegionWiring, name: str, values: dict[str, str], target: Target
) -> TargetStatus:
    try:
        adapter = wiring.adapter(target)
        release = adapter.prepare(values)
    except TargetError as exc:
        return TargetStatus(wiring.region, name, "unknown", f"error: {exc}", False)
    alias = release.alias
    current = alias.routing.describe() if alias else "no alias yet (first deploy creates it)"
    if release.changed:
        # Later targets may pin this one's new version; it has no number until apply.
        values[f"targets.{name}.version"] = f"(new version of {name})"
        values[f"targets.{name}.version_arn"] = f"(new version of {name})"
    elif alias is not None:
        values[f"targets.{name}.version"] = alias.routing.version.rsplit(":", 1)[-1]
        values[f"targets.{name}.version_arn"] = adapter.version_arn(alias.routing.version)
    return TargetStatus(wiring.region, name, current, release.summary, release.changed)
