"""The live `plan`: what AWS reports per region and target, read before anything moves."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from rollout.engine.inspection import RegionInspection
from rollout.pipeline.build import Builder, RegionBuild
from rollout.pipeline.nginx import NginxPreview
from rollout.pipeline.stage import StagePreview
from rollout.pipeline.terraform import TerraformPreview
from rollout.processes import stop_all


@dataclass(frozen=True)
class TargetLiveState:
    """One target in one region: what its alias serves now and what apply would publish."""

    region: str
    target: str
    current: str
    release: str
    changed: bool


@dataclass(frozen=True)
class LivePlan:
    """What AWS reports, per region and target, and the problems that would stop apply."""

    targets: tuple[TargetLiveState, ...]
    alarms: tuple[tuple[str, str, str], ...]  # (region, alarm, state or MISSING)
    problems: tuple[str, ...]
    callers: tuple[tuple[str, str, str], ...] = ()  # (region, account, principal ARN)
    terraform: tuple[TerraformPreview, ...] = ()
    nginx: tuple[NginxPreview, ...] = ()

    @property
    def changes_pending(self) -> bool:
        stages = [t.changes_pending for t in self.terraform] + [
            n.changes_pending for n in self.nginx
        ]
        return any(t.changed for t in self.targets) or any(stages)


def read_live_plan(builder: Builder) -> LivePlan:
    """Every chosen region of every wave, read before anything moves (regions side by side,
    as many at once as the plan's parallelism: terraform's plan takes seconds a region)."""
    regions = [region for wave in builder.selection.waves(builder.plan) for region in wave]
    builds = [builder.region(region) for region in regions]
    with ThreadPoolExecutor(max_workers=max(1, builder.plan.parallelism)) as pool:
        try:
            read = list(pool.map(_read_region, builds))
        except BaseException:  # Ctrl-C: terraform in the other threads stops too, at once
            stop_all()
            raise
    inspections: list[RegionInspection] = []
    terraform: list[TerraformPreview] = []
    nginx: list[NginxPreview] = []
    callers: list[tuple[str, str, str]] = []
    for caller, previews in read:
        callers.append(caller)
        for preview in previews:
            if isinstance(preview, TerraformPreview):
                terraform.append(replace(preview, scope=None))  # values stay in memory
            elif isinstance(preview, NginxPreview):
                nginx.append(preview)
            else:
                assert isinstance(preview, RegionInspection)
                inspections.append(preview)
    return LivePlan(
        callers=tuple(callers),
        terraform=tuple(terraform),
        nginx=tuple(nginx),
        targets=tuple(
            TargetLiveState(i.region, t.target, t.current, t.summary, t.changed)
            for i in inspections
            for t in i.targets
        ),
        alarms=tuple((i.region, name, state) for i in inspections for name, state in i.alarms),
        problems=(
            *(problem for t in terraform for problem in t.problems),
            *(problem for n in nginx for problem in n.problems),
            *(problem for i in inspections for problem in i.problems),
        ),
    )


def _read_region(build: RegionBuild) -> tuple[tuple[str, str, str], list[StagePreview]]:
    # First: a missing profile or an expired token is found before anything else.
    caller = build.caller().identity()
    previews = build.pipeline(lambda _event: None).preview()
    return (build.region, caller.account, caller.arn), previews
