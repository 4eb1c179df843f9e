"""The narrow interfaces the engine drives; AWS adapters and test fakes implement them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from rollout.engine.routing import AliasRouting, AliasState
from rollout.plan.model import Hook


@dataclass(frozen=True)
class Release:
    """What publishing would do for one target, decided before any write."""

    alias: AliasState | None  # None: the alias does not exist yet (first deploy)
    changed: bool  # False: the alias already serves this code or definition
    summary: str  # for people: "code sha256 3q2+7w… (alias serves Ab1…)", "unchanged"
    existing_version: str | None = None  # a version to release without publishing


@dataclass(frozen=True)
class PublishedVersion:
    """A version a target released: its id (Lambda number, Step Functions ARN) and ARN."""

    version: str
    arn: str


class TargetError(Exception):
    """An AWS call for one target failed; str() names the call and AWS's message."""


class AliasConflictError(TargetError):
    """AWS refused an alias write because the alias changed since it was read."""


class TargetAdapter(Protocol):
    """One Lambda function or state machine alias in one region."""

    def check_inputs(self) -> None:
        """Check local inputs (packages, definitions) before any AWS call; raise TargetError."""
        ...

    def read_alias(self) -> AliasState | None:
        """The alias as AWS reports it now, or None when it does not exist."""
        ...

    def prepare(self, values: Mapping[str, str]) -> Release:
        """Decide what publishing would do; reads only. `values` fill definition placeholders."""
        ...

    def publish(
        self, release: Release, values: Mapping[str, str], description: str
    ) -> PublishedVersion:
        """Publish the new version (or return the existing one the release names)."""
        ...

    def version_arn(self, version: str) -> str:
        """The ARN of one of this target's versions."""
        ...

    def create_alias(self, version: str) -> AliasState:
        """Create the alias pointing at `version` (first deploy)."""
        ...

    def update_alias(self, routing: AliasRouting, expected: AliasState) -> AliasState:
        """Set the alias's routing, sending `expected.revision` where the service takes one."""
        ...


class AlarmReader(Protocol):
    """CloudWatch alarms of one region."""

    def states(self, names: Sequence[str]) -> Mapping[str, str]:
        """`{name: OK|ALARM|INSUFFICIENT_DATA}` for the names that exist; one call per 100 names."""
        ...


class Clock(Protocol):
    """Time, injected so tests never sleep."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait."""
        ...

    def now(self) -> datetime:
        """Wall-clock time, for event timestamps."""
        ...


@dataclass(frozen=True)
class HookContext:
    """What a hook is told about the release it checks."""

    region: str
    target: str
    phase: str  # before_traffic | after_traffic
    alias_arn: str
    new_version: str
    new_version_arn: str
    old_version: str | None


@dataclass(frozen=True)
class HookOutcome:
    """Whether a hook passed, and what it said."""

    passed: bool
    detail: str


class HookRunner(Protocol):
    """Runs one hook of the plan (lambda, stepfunctions, command or http)."""

    def run(self, hook: Hook, context: HookContext) -> HookOutcome:
        """Run `hook` to completion or its timeout; never raises for the hook's own failure."""
        ...


@dataclass(frozen=True)
class TargetSnapshot:
    """Everything needed to resume or roll back one target, as the engine last knew it."""

    status: str  # published | shifting | done | rolled_back | unchanged | created
    alias_arn: str = ""
    initial: AliasRouting | None = None
    last: AliasRouting | None = None
    pending: AliasRouting | None = None
    old_version: str | None = None
    new_version: str | None = None
    new_version_arn: str | None = None
    step: int = 0


class Journal(Protocol):
    """Records progress durably, before and after every change."""

    def target(self, region: str, name: str, snapshot: TargetSnapshot) -> None:
        """Record one target's progress; must be durable when it returns."""
        ...

    def region_finished(self, region: str, outcome: str, message: str) -> None:
        """Record how a region ended."""
        ...


class NullJournal:
    """Records nothing (previews and tests that need no state)."""

    def target(self, region: str, name: str, snapshot: TargetSnapshot) -> None:
        """Forget it."""

    def region_finished(self, region: str, outcome: str, message: str) -> None:
        """Forget it."""
