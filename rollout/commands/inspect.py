"""The commands that read and change nothing: the live `plan`, `status` and `history`.

`status` works from the record: the resources a release touched are read back
even when the plan file no longer names them.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from rollout.commands.context import CommandContext
from rollout.commands.result import CommandResult
from rollout.engine.inspection import RegionInspection
from rollout.engine.ports import TargetError
from rollout.exitcodes import ExitCode
from rollout.pipeline.build import Builder, RegionBuild
from rollout.pipeline.nginx import NginxPreview
from rollout.pipeline.stage import StagePreview
from rollout.pipeline.terraform import TerraformPreview
from rollout.processes import stop_all
from rollout.state.model import RolloutRecord, TargetIdentity
from rollout.state.store import holder_is_dead


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


@dataclass(frozen=True)
class TargetState:
    """One target as `status` shows it."""

    region: str
    target: str
    resource: str
    serves: str
    recorded: str | None  # the recorded progress, e.g. "shifting at step 2"


def status(context: CommandContext) -> CommandResult:
    """Live alias routing of every recorded and planned target, and the rollout in flight (5)."""
    store = context.store()
    record = store.read(context.name)
    context.selection.checked(
        context.loaded.plan, recorded_regions=record.regions if record else ()
    )
    holder = store.lock_holder(context.name)
    lines = []
    if record is not None:
        lines.append(f"last rollout {record.id}: {record.status.value}")
    if holder is not None:
        dead = " (no longer running)" if holder_is_dead(holder) else ""
        lines.append(f"locked by {holder.describe()}{dead}")
    builder = context.builder()
    states = [
        _read(builder.region(region), name, identity, record)
        for region, name, identity in _known_targets(context, builder, record)
    ]
    for state in states:
        where = f", {state.recorded}" if state.recorded else ""
        lines.append(f"{state.region} {state.target}: serves {state.serves}{where}")
    terraform = _terraform_lines(record)
    lines.extend(terraform)
    in_progress = record is not None and record.unfinished
    return CommandResult(
        ExitCode.IN_PROGRESS if in_progress else ExitCode.OK,
        tuple(lines),
        {
            "rollout": record.id if record else None,
            "status": record.status.value if record else None,
            "locked_by": holder.describe() if holder else None,
            "targets": [state.__dict__ for state in states],
            "terraform": {
                region: stored.terraform.model_dump(mode="json", exclude={"sensitive"})
                for region, stored in (record.regions.items() if record else ())
                if stored.terraform is not None
            },
        },
    )


def _terraform_lines(record: RolloutRecord | None) -> list[str]:
    """What terraform did per region: `rollout rollback` moves aliases back, not infrastructure."""
    if record is None:
        return []
    lines = []
    for region, stored in record.regions.items():
        if stored.terraform is None:
            continue
        done = stored.terraform
        about = done.summary or done.message
        lines.append(
            f"{region} terraform: {done.status.value}{f' ({about})' if about else ''}; "
            "not undone by `rollout rollback`"
        )
    return lines


def _known_targets(
    context: CommandContext, builder: Builder, record: RolloutRecord | None
) -> list[tuple[str, str, TargetIdentity | str]]:
    """(region, target, resource or why unknown): what the record touched, then the plan's."""
    found: dict[tuple[str, str], TargetIdentity | str] = {}
    selection = context.selection
    if record is not None:
        for region, stored in record.regions.items():
            for name, identity in stored.resources.items():
                if selection.has_region(region) and selection.has_target(name):
                    found[(region, name)] = identity
    for region in context.loaded.plan.regions:
        if not selection.has_region(region):
            continue
        build = builder.region(region)
        in_record = record.regions.get(region) if record else None
        terraform = in_record.terraform if in_record else None
        # Names terraform's outputs give: the recorded outputs fill them, when it applied.
        outputs = {f"tf.{k}": v for k, v in terraform.outputs.items()} if terraform else {}
        scope = build.scope.with_values(outputs)
        for target in selection.plan_targets(context.loaded.plan):
            if (region, target.name) not in found:
                try:
                    found[(region, target.name)] = build.identity(target, scope)
                except ValueError as exc:  # a name that needs terraform outputs not known yet
                    why = str(exc)
                    if context.loaded.plan.terraform is not None and "terraform" in why:
                        done = terraform.status.value if terraform else "not run"
                        why = f"its name comes from terraform, not applied here ({done})"
                    found[(region, target.name)] = why
    return [(region, name, identity) for (region, name), identity in found.items()]


def _read(
    build: RegionBuild, name: str, identity: TargetIdentity | str, record: RolloutRecord | None
) -> TargetState:
    stored = record.regions.get(build.region) if record else None
    progress = stored.targets.get(name) if stored else None
    recorded = None
    if progress is not None:
        paused = ", paused" if progress.paused else ""
        recorded = f"{progress.status.value} at step {progress.step}{paused}"
    if isinstance(identity, str):
        return TargetState(build.region, name, "unknown", f"unknown: {identity}", recorded)
    try:
        alias = build.recorded_run(name, identity).adapter.read_alias()
        serves = alias.routing.describe() if alias else "no alias"
    except TargetError as exc:
        serves = f"unknown ({exc})"
    return TargetState(build.region, name, identity.describe(), serves, recorded)


def history(context: CommandContext) -> CommandResult:
    """Past rollouts of the plan's name, oldest first."""
    records = context.store().history(context.name)
    lines = tuple(
        f"{r.started_at:%Y-%m-%d %H:%M:%S}Z {r.id} {r.status.value} "
        f"({', '.join(f'{region}: {reg.status.value}' for region, reg in r.regions.items())})"
        for r in records
    )
    facts = {"rollouts": [r.model_dump(mode="json", exclude={"regions"}) for r in records]}
    return CommandResult(ExitCode.OK, lines or ("no rollouts recorded",), facts)
