"""`rollout status`: per region and target, what AWS serves, what rollout last did, what the
rollout in flight waits for, and the regions that serve a target differently.

It works from the record: the resources a release touched are read back even
when the plan file no longer names them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from rollout.commands.context import CommandContext
from rollout.commands.result import CommandResult, iso_time
from rollout.engine.ports import TargetError, TargetStatus
from rollout.engine.routing import AliasRouting
from rollout.exitcodes import ExitCode
from rollout.pipeline.build import Builder, RegionBuild
from rollout.plan.durations import format_duration
from rollout.state.model import (
    LOCK_SILENT_SECONDS,
    LockHolder,
    RolloutRecord,
    RolloutStatus,
    TargetIdentity,
    TargetRecord,
)
from rollout.state.store import holder_is_dead


@dataclass(frozen=True)
class Share:
    """One version an alias sends traffic to, and what that version runs."""

    version: str  # "8"; a Step Functions version by its number
    weight: float
    content: str | None  # "code 3q2+7w…", "definition 9f86d0…"; None when unreadable


@dataclass(frozen=True)
class TargetState:
    """One target in one region as `status` shows it."""

    region: str
    target: str
    resource: str  # "lambda orders-api:live"
    serves: str  # "7: 90%, 8: 10%", "no alias", "unknown (why)"
    shares: tuple[Share, ...]
    last_action: str | None  # what rollout last did, from the record
    recorded: str | None  # the recorded progress, e.g. "shifting at step 2"
    waiting: str | None  # for a rollout in flight: "baking, 3m left", "paused (manual; …)"
    bake_ends_at: datetime | None


@dataclass(frozen=True)
class Divergence:
    """A target whose regions serve different releases (see `diverging`)."""

    target: str
    regions: tuple[tuple[str, tuple[Share, ...]], ...]

    def describe(self) -> str:
        """`api: us-east-1 serves code 3q2… (8) 100%; eu-west-1 serves code Ab1… (7) 100%`."""
        parts = "; ".join(
            f"{region} serves {_shares_text(shares)}" for region, shares in self.regions
        )
        return f"{self.target}: {parts}"


def _shares_text(shares: tuple[Share, ...]) -> str:
    return ", ".join(
        f"{share.content or 'unreadable'} (version {share.version}) {share.weight:g}%"
        for share in shares
    )


@dataclass(frozen=True)
class StatusReport:
    """What `status` found: the result to show, and whether a rollout is still under way."""

    result: CommandResult
    record_status: RolloutStatus | None
    in_flight: bool
    stranded: bool  # in flight, but no live process runs it


# The exit code `status --watch` ends with, by how the rollout it watched ended.
WATCH_EXIT_CODES = {
    RolloutStatus.SUCCEEDED: ExitCode.OK,
    RolloutStatus.NOTHING_TO_DO: ExitCode.OK,
    RolloutStatus.FAILED: ExitCode.ERROR,
    RolloutStatus.ROLLED_BACK: ExitCode.ROLLED_BACK,
    RolloutStatus.NEEDS_HUMAN: ExitCode.NEEDS_HUMAN,
    RolloutStatus.IN_PROGRESS: ExitCode.IN_PROGRESS,
}


def status(context: CommandContext) -> CommandResult:
    """Live routing of every recorded and planned target, and the rollout in flight (exit 5)."""
    return read_status(context).result


def watch(
    context: CommandContext, show: Callable[[CommandResult], None], interval: float
) -> ExitCode:
    """Show the status every `interval` seconds until the rollout in flight ends; exit with its
    outcome's code (0 when none was in flight, 5 when no process runs it any more)."""
    report = read_status(context)
    show(report.result)
    if not report.in_flight:
        return ExitCode.OK
    while True:
        if report.stranded:
            # Read once more: a rollout that just ended releases its lock after its record.
            report = read_status(context)
            show(report.result)
            if report.in_flight and report.stranded:
                return ExitCode.IN_PROGRESS
        if not report.in_flight:
            assert report.record_status is not None
            return WATCH_EXIT_CODES[report.record_status]
        context.clock.sleep(interval)
        report = read_status(context)
        show(report.result)


def read_status(context: CommandContext) -> StatusReport:
    """Everything `status` shows, read from the record, the lock and AWS."""
    store = context.store()
    record = store.read(context.name)
    context.selection.checked(
        context.loaded.plan, recorded_regions=record.regions if record else ()
    )
    holder = store.lock_holder(context.name)
    builder = context.builder()
    now = context.clock.now()
    in_flight = record is not None and record.unfinished
    stranded = in_flight and stranded_holder(holder, now)
    seen = _Seen(record, context.plan_file, now, stranded)
    states = [
        _read(builder.region(region), name, identity, seen)
        for region, name, identity in known_targets(context, builder, record)
    ]
    diverging = find_divergence(states)
    lines = [
        *_head_lines(record, holder, stranded, context.plan_file),
        *(_target_line(state) for state in states),
        *(f"diverging: {d.describe()}" for d in diverging),
        *_terraform_lines(record),
    ]
    result = CommandResult(
        ExitCode.IN_PROGRESS if in_flight else ExitCode.OK,
        tuple(lines),
        _facts(record, holder, states, diverging, in_flight=in_flight, stranded=stranded),
    )
    return StatusReport(result, record.status if record else None, in_flight, stranded)


def stranded_holder(holder: LockHolder | None, now: datetime) -> bool:
    """Whether no live process runs the unfinished rollout (it will not end by itself)."""
    if holder is None or holder.problem is not None:
        return True
    return holder_is_dead(holder) or holder.silent_for(now) > LOCK_SILENT_SECONDS


def _head_lines(
    record: RolloutRecord | None, holder: LockHolder | None, stranded: bool, plan_file: str
) -> list[str]:
    if record is None:
        return ["no rollout recorded"]
    who = f" by {record.started_by.describe()}" if record.started_by else ""
    lines = [
        f"rollout {record.id}: {record.status.value}, started "
        f"{record.started_at:%Y-%m-%d %H:%M:%S}Z{who}"
    ]
    if holder is not None:
        dead = " (no longer running)" if holder_is_dead(holder) else ""
        lines.append(f"locked by {holder.describe()}{dead}")
    if stranded and record.unfinished:
        lines.append(
            f"no process runs it: `rollout resume -f {plan_file}` carries it on, "
            f"`rollout rollback -f {plan_file}` undoes it"
        )
    return lines


def _target_line(state: TargetState) -> str:
    where = f", {state.recorded}" if state.recorded else ""
    line = f"{state.region} {state.target}: serves {state.serves}{where}"
    if state.last_action:
        line += f"; last: {state.last_action}"
    if state.waiting:
        line += f"; {state.waiting}"
    return line


def _facts(
    record: RolloutRecord | None,
    holder: LockHolder | None,
    states: list[TargetState],
    diverging: list[Divergence],
    *,
    in_flight: bool,
    stranded: bool,
) -> dict[str, Any]:
    return {
        "rollout": record.id if record else None,
        "status": record.status.value if record else None,
        "in_flight": in_flight,
        "stranded": in_flight and stranded,
        "started_at": iso_time(record.started_at) if record else None,
        "started_by": record.started_by.model_dump() if record and record.started_by else None,
        "locked_by": holder.describe() if holder else None,
        "targets": [
            asdict(state) | {"bake_ends_at": iso_time(state.bake_ends_at)} for state in states
        ],
        "diverging": [
            {
                "target": d.target,
                "regions": {r: [asdict(s) for s in shares] for r, shares in d.regions},
            }
            for d in diverging
        ],
        "terraform": {
            region: stored.terraform.model_dump(mode="json", exclude={"sensitive"})
            for region, stored in (record.regions.items() if record else ())
            if stored.terraform is not None
        },
    }


def find_divergence(states: list[TargetState]) -> list[Divergence]:
    """Targets whose regions do not all serve the same releases at the same weights.

    Releases are compared by what they run (a Lambda version's code digest, a state
    machine version's definition), not by version number, which each region counts
    on its own. Regions whose alias could not be read, or does not exist, are left out.
    """
    by_target: dict[str, list[TargetState]] = {}
    for state in states:
        if state.shares:
            by_target.setdefault(state.target, []).append(state)
    found = []
    for target, read in by_target.items():
        served = {tuple(sorted((s.content or s.version, s.weight) for s in r.shares)) for r in read}
        if len(served) > 1:
            found.append(Divergence(target, tuple((r.region, r.shares) for r in read)))
    return found


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


def known_targets(
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


@dataclass(frozen=True)
class _Seen:
    """What every target's row is read against: the record, and the moment of reading."""

    record: RolloutRecord | None
    plan_file: str
    now: datetime
    stranded: bool


def _read(
    build: RegionBuild, name: str, identity: TargetIdentity | str, seen: _Seen
) -> TargetState:
    record = seen.record
    stored = record.regions.get(build.region) if record else None
    progress = stored.targets.get(name) if stored else None
    recorded = last = waiting = None
    bake_ends_at = None
    if progress is not None:
        paused = ", paused" if progress.paused else ""
        recorded = f"{progress.status.value} at step {progress.step}{paused}"
        last = last_action(progress)
        if record is not None and record.unfinished and progress.status.unfinished:
            waiting = _waiting(progress, f"--region {build.region} --target {name}", seen)
            bake_ends_at = progress.bake_ends_at
    shares: tuple[Share, ...] = ()
    if isinstance(identity, str):
        serves, resource = f"unknown: {identity}", "unknown"
    else:
        resource = identity.describe()
        serves, shares = _serving(build, name, identity)
    return TargetState(
        build.region, name, resource, serves, shares, last, recorded, waiting, bake_ends_at
    )


def _serving(
    build: RegionBuild, name: str, identity: TargetIdentity
) -> tuple[str, tuple[Share, ...]]:
    """What the alias serves now, as text and as shares with what each version runs."""
    adapter = build.recorded_run(name, identity).adapter
    try:
        alias = adapter.read_alias()
    except TargetError as exc:
        return f"unknown ({exc})", ()
    if alias is None:
        return "no alias", ()
    shares = []
    for version, weight in alias.routing.shares().items():
        try:
            content: str | None = adapter.content_digest(version)
        except TargetError:
            content = None
        shares.append(Share(_number(version), float(weight), content))
    return alias.routing.describe(), tuple(shares)


def _number(version: str) -> str:
    """A version as people name it: Step Functions' ARN ends with its number."""
    return version.rsplit(":", 1)[-1]


def last_action(progress: TargetRecord) -> str:
    """What rollout last did to this target, and when."""
    old, new = _number(progress.old_version or "?"), _number(progress.new_version or "?")
    initial = _routing_text(progress.initial)
    status = progress.status
    what = {
        TargetStatus.CREATING: f"published version {new}; creating the alias",
        TargetStatus.CREATED: f"created the alias at version {new}",
        TargetStatus.UNCHANGED: "nothing to publish: the alias served this release",
        TargetStatus.PUBLISHED: f"published version {new} (from {old}); no traffic moved yet",
        TargetStatus.SHIFTING: f"set {_routing_text(progress.pending or progress.last)}",
        TargetStatus.DONE: f"released version {new} (from {old})",
        TargetStatus.ROLLING_BACK: f"rolling back to {initial}",
        TargetStatus.ROLLED_BACK: f"rolled back to {initial}",
    }[status]
    return f"{what} at {progress.updated_at:%Y-%m-%d %H:%M:%S}Z"


def _routing_text(stored: Any) -> str:
    routing: AliasRouting | None = stored.routing() if stored is not None else None
    return routing.describe() if routing else "?"


def _waiting(progress: TargetRecord, where: str, seen: _Seen) -> str:
    """What a target of the rollout in flight waits for; `where` is its --region and --target."""
    if seen.stranded:
        return "stopped (no process runs the rollout)"
    if progress.status is TargetStatus.ROLLING_BACK:
        return "rolling back"
    if progress.paused:
        return f"paused (manual; run rollout promote -f {seen.plan_file} {where})"
    if progress.bake_ends_at is not None:
        left = (progress.bake_ends_at - seen.now).total_seconds()
        if left <= 0:
            return "baking, ending now"
        return f"baking, {format_duration(timedelta(seconds=math.ceil(left)))} left"
    return "shifting"
