"""The typed events a rollout emits; reporters turn them into output.

The engine never prints: it hands each event to a sink, and every output
format (plain lines, JSON lines, CI annotations) is a consumer of the same stream.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import ClassVar

from rollout.engine.routing import AliasRouting, version_number


def _epoch() -> datetime:
    return datetime.fromtimestamp(0, timezone.utc)


@dataclass(frozen=True, kw_only=True)
class Event:
    """Something that happened; `at` is stamped by the emitter."""

    kind: ClassVar[str] = "event"
    region: str | None = None
    target: str | None = None
    at: datetime = field(default_factory=_epoch)
    rollout_id: str | None = None  # stamped with `at`, so a script can join lines across runs


@dataclass(frozen=True)
class Share:
    """One version's share of an alias's traffic, as scripts read it: `{version: 7, weight: 90}`."""

    version: int
    weight: float


def shares(routing: AliasRouting) -> tuple[Share, ...]:
    """An alias's routing as scripts read it, the alias's own version first."""
    return tuple(Share(version_number(v), float(w)) for v, w in routing.parts())


@dataclass(frozen=True, kw_only=True)
class RolloutStarted(Event):
    kind: ClassVar[str] = "rollout_started"
    plan: str
    waves: tuple[tuple[str, ...], ...]


@dataclass(frozen=True, kw_only=True)
class RegionStarted(Event):
    kind: ClassVar[str] = "region_started"


@dataclass(frozen=True, kw_only=True)
class AlarmsChecked(Event):
    kind: ClassVar[str] = "alarms_checked"
    states: tuple[tuple[str, str], ...]


@dataclass(frozen=True, kw_only=True)
class VersionPublished(Event):
    kind: ClassVar[str] = "version_published"
    version: int  # the number, for Lambda and Step Functions alike; the ARN is in `arn`
    arn: str
    summary: str
    previous: int | None = None  # the version the alias served (its larger share); None: new alias


@dataclass(frozen=True, kw_only=True)
class NothingToPublish(Event):
    kind: ClassVar[str] = "nothing_to_publish"
    summary: str


@dataclass(frozen=True, kw_only=True)
class AliasCreated(Event):
    kind: ClassVar[str] = "alias_created"
    version: int
    arn: str


@dataclass(frozen=True, kw_only=True)
class WeightShifted(Event):
    kind: ClassVar[str] = "weight_shifted"
    weight: float
    routing: tuple[Share, ...]
    step: int  # this shift's number among the target's shifts, from 1
    steps: int


@dataclass(frozen=True, kw_only=True)
class BakeStarted(Event):
    kind: ClassVar[str] = "bake_started"
    seconds: float
    final: bool  # the bake after the last shift, rather than the wait before the next one


@dataclass(frozen=True, kw_only=True)
class PauseStarted(Event):
    kind: ClassVar[str] = "pause_started"
    promote_command: str = ""  # the `rollout promote` command line that releases this pause


@dataclass(frozen=True, kw_only=True)
class AlarmChanged(Event):
    kind: ClassVar[str] = "alarm_changed"
    alarm: str
    previous: str | None
    state: str


@dataclass(frozen=True, kw_only=True)
class HookStarted(Event):
    kind: ClassVar[str] = "hook_started"
    phase: str
    hook: str


@dataclass(frozen=True, kw_only=True)
class HookFinished(Event):
    kind: ClassVar[str] = "hook_finished"
    phase: str
    hook: str
    passed: bool
    detail: str


@dataclass(frozen=True, kw_only=True)
class DriftDetected(Event):
    kind: ClassVar[str] = "drift_detected"
    expected: str
    found: str


@dataclass(frozen=True, kw_only=True)
class RollbackStarted(Event):
    kind: ClassVar[str] = "rollback_started"
    reason: str


@dataclass(frozen=True, kw_only=True)
class AliasRestored(Event):
    kind: ClassVar[str] = "alias_restored"
    routing: tuple[Share, ...]


@dataclass(frozen=True, kw_only=True)
class RollbackFailed(Event):
    kind: ClassVar[str] = "rollback_failed"
    error: str


@dataclass(frozen=True, kw_only=True)
class TerraformPlanned(Event):
    kind: ClassVar[str] = "terraform_planned"
    add: int
    change: int
    destroy: int
    resources: tuple[tuple[str, str], ...]  # (action, address)


@dataclass(frozen=True, kw_only=True)
class TerraformResource(Event):
    kind: ClassVar[str] = "terraform_resource"
    address: str
    action: str
    status: str  # started, progress, complete, errored
    elapsed_seconds: float | None


@dataclass(frozen=True, kw_only=True)
class TerraformDiagnostic(Event):
    kind: ClassVar[str] = "terraform_diagnostic"
    severity: str
    summary: str
    detail: str
    file: str | None
    line: int | None


@dataclass(frozen=True, kw_only=True)
class TerraformApplied(Event):
    kind: ClassVar[str] = "terraform_applied"
    add: int
    change: int
    destroy: int


@dataclass(frozen=True, kw_only=True)
class TerraformOutputs(Event):
    kind: ClassVar[str] = "terraform_outputs"
    outputs: tuple[tuple[str, str], ...]  # (name, value); a sensitive one as "(sensitive)"


@dataclass(frozen=True, kw_only=True)
class NginxRendered(Event):
    kind: ClassVar[str] = "nginx_rendered"
    path: str
    domains: int
    changed: bool
    checked: str  # passed, or why nginx -t did not run


@dataclass(frozen=True, kw_only=True)
class NginxReloaded(Event):
    kind: ClassVar[str] = "nginx_reloaded"
    command: str
    passed: bool
    detail: str


@dataclass(frozen=True, kw_only=True)
class RegionFinished(Event):
    kind: ClassVar[str] = "region_finished"
    outcome: str
    message: str


@dataclass(frozen=True, kw_only=True)
class RolloutFinished(Event):
    kind: ClassVar[str] = "rollout_finished"
    outcome: str
    exit_code: int
    message: str


EventSink = Callable[[Event], None]
