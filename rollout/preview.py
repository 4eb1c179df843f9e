"""The dry-run preview: what `apply` would do, per wave, region and target, and when.

Pure: built from the plan alone (offline); the live plan adds what AWS reports.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import strategies
from rollout.pipeline.ports_of_plan import hook_spec
from rollout.pipeline.scope import RegionScope
from rollout.pipeline.selection import Selection
from rollout.plan.durations import format_duration
from rollout.plan.model import Plan, Target
from rollout.plan.strategy_spec import (
    AllAtOnceStrategy,
    BlueGreenStrategy,
    CanaryStrategy,
    ExplicitStepsStrategy,
    LinearStrategy,
    StrategySpec,
    strategy_steps,
)
from rollout.redact import redact
from strategies import Bake, Pause, Shift, TimedStep, Validate


@dataclass(frozen=True)
class TimelineRow:
    """One step as a person reads it: when it starts, what it does, the new version's weight."""

    offset: timedelta  # from the start, or from the last manual promote when after_pause
    after_pause: bool
    action: str
    weight: Decimal


@dataclass(frozen=True)
class TargetPreview:
    """What happens to one target in one region."""

    name: str
    kind: str
    resource: str
    alias: str
    strategy: str
    timeline: tuple[TimelineRow, ...]
    duration: timedelta
    manual_pauses: int
    alarms: tuple[str, ...]


@dataclass(frozen=True)
class RegionPreview:
    """Every target of one region; they advance together, so the slowest sets the duration."""

    region: str
    targets: tuple[TargetPreview, ...]
    terraform: str | None = None  # what the terraform stage runs first, when the plan has one
    nginx: str | None = None  # what the nginx stage writes, when the plan has one

    @property
    def duration(self) -> timedelta:
        return max((t.duration for t in self.targets), default=timedelta(0))


@dataclass(frozen=True)
class WavePreview:
    """Regions that run in parallel, up to the plan's parallelism."""

    number: int
    regions: tuple[RegionPreview, ...]
    parallelism: int

    @property
    def duration(self) -> timedelta:
        batches = math.ceil(len(self.regions) / self.parallelism)
        longest = max((r.duration for r in self.regions), default=timedelta(0))
        return longest * batches


@dataclass(frozen=True)
class PlanPreview:
    """The whole release, wave by wave."""

    name: str
    waves: tuple[WavePreview, ...]
    poll_interval: timedelta

    @property
    def duration(self) -> timedelta:
        return sum((wave.duration for wave in self.waves), timedelta(0))

    @property
    def manual_pauses(self) -> int:
        return max(
            (t.manual_pauses for w in self.waves for r in w.regions for t in r.targets), default=0
        )


def preview_plan(plan: Plan, selection: Selection | None = None) -> PlanPreview:
    """The offline preview of `plan`, limited to the chosen regions and targets."""
    chosen = (selection or Selection()).checked(plan)
    targets = chosen.plan_targets(plan)
    waves = tuple(
        WavePreview(
            number, tuple(_region_preview(plan, r, targets) for r in wave), plan.parallelism
        )
        for number, wave in enumerate(chosen.waves(plan), start=1)
    )
    return PlanPreview(plan.name, waves, plan.alarms.poll_interval)


def _region_preview(plan: Plan, region: str, targets: Sequence[Target]) -> RegionPreview:
    terraform = None
    if plan.terraform is not None:
        scope = RegionScope(region)
        workspace = plan.terraform.workspace
        terraform = f"init, plan and apply {scope.preview(plan.terraform.dir)}" + (
            f" in workspace {scope.preview(workspace)}" if workspace else ""
        )
    nginx = None
    if plan.nginx is not None:
        scope = RegionScope(region)
        mappings = plan.nginx.mappings
        written = mappings if isinstance(mappings, str) else f"{len(mappings)} inline mapping(s)"
        nginx = f"render {scope.preview(written)} into {scope.preview(plan.nginx.output)}"
    targets_shown = tuple(target_preview(plan, region, t) for t in targets)
    return RegionPreview(region, targets_shown, terraform, nginx)


def target_preview(plan: Plan, region: str, target: Target) -> TargetPreview:
    """One target's timeline in one region."""
    scope = RegionScope(region)
    steps = strategy_steps(target.strategy, bake=plan.alarms.bake)
    if target.hooks.before_traffic is not None:
        steps = strategies.with_validation(steps)  # as the engine runs it
    if target.lambda_ is not None:
        kind, resource, alias = "lambda", target.lambda_.function, target.lambda_.alias
    else:
        assert target.stepfunctions is not None
        spec = target.stepfunctions
        kind, resource, alias = "stepfunctions", spec.state_machine, spec.alias
    return TargetPreview(
        name=target.name,
        kind=kind,
        resource=scope.preview(resource),
        alias=scope.preview(alias),
        strategy=describe_strategy(target.strategy),
        timeline=timeline_rows(strategies.timeline(steps), _hook_texts(target, scope)),
        duration=strategies.total_duration(steps),
        manual_pauses=sum(isinstance(step, Pause) for step in steps),
        alarms=tuple(scope.preview(alarm) for alarm in target.alarms),
    )


def _hook_texts(target: Target, scope: RegionScope) -> dict[str, str]:
    """Each hook the target has, by phase, as events name it: `command ./smoke.sh`."""
    hooks = {
        "before_traffic": target.hooks.before_traffic,
        "after_traffic": target.hooks.after_traffic,
        "on_pause": target.hooks.on_pause,
    }
    return {
        phase: redact(f"{spec.kind.value} {scope.preview(spec.value)}")
        for phase, hook in hooks.items()
        if (spec := hook_spec(hook)) is not None
    }


def timeline_rows(
    timed: Sequence[TimedStep], hooks: Mapping[str, str] | None = None
) -> tuple[TimelineRow, ...]:
    """Readable rows for a strategy's timed steps; `hooks` (by phase) say where each runs."""
    hooks = hooks or {}
    rows, weight, promoted_at = [], Decimal(0), timedelta(0)
    for item in timed:
        step = item.step
        if isinstance(step, Shift):
            weight = step.weight
            action = "shift"
            if weight >= 100 and "after_traffic" in hooks:
                action += f", then the after_traffic hook ({hooks['after_traffic']})"
        elif isinstance(step, Bake):
            action = f"bake {format_duration(step.duration)}"
        elif isinstance(step, Pause):
            action = "pause until `rollout promote`"
            if "on_pause" in hooks:
                action += f"; the on_pause hook tells someone ({hooks['on_pause']})"
            promoted_at = item.offset
        else:
            assert isinstance(step, Validate)
            hook = hooks.get("before_traffic")
            action = f"before_traffic hook at 0% ({hook})" if hook else "validate at 0%"
        # After a manual pause, time counts from the promote, which no one can foresee.
        offset = item.offset - promoted_at if item.after_pause else item.offset
        rows.append(
            TimelineRow(offset, item.after_pause and not isinstance(step, Pause), action, weight)
        )
    return tuple(rows)


def describe_strategy(spec: StrategySpec) -> str:
    """A short name for a strategy as written in the plan."""
    if isinstance(spec, str):
        return spec
    if isinstance(spec, AllAtOnceStrategy | BlueGreenStrategy):
        return spec.type
    if isinstance(spec, CanaryStrategy):
        return f"canary {spec.percent}% for {format_duration(spec.interval)}"
    if isinstance(spec, LinearStrategy):
        return f"linear +{spec.percent}% every {format_duration(spec.interval)}"
    if isinstance(spec, ExplicitStepsStrategy):
        return f"{len(spec.steps)} explicit steps"
    if spec.type == "ALL_AT_ONCE":
        return "ALL_AT_ONCE"
    return f"{spec.type} {spec.percentage}% every {spec.interval} min"
