"""The narrow interfaces the engine drives; AWS adapters and test fakes implement them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Protocol

from rollout.engine.routing import AliasRouting, AliasState
from rollout.redact import redact


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


class PermanentTargetError(TargetError):
    """AWS refused in a way no retry can change (credentials, configuration); `hint` says why."""

    hint: str = ""


class AliasConflictError(TargetError):
    """AWS refused an alias write because the alias changed since it was read."""


class TargetAdapter(Protocol):
    """One Lambda function or state machine alias in one region."""

    @property
    def revision_guarded(self) -> bool:
        """Whether AWS refuses an alias write whose revision is stale (Lambda's RevisionId), so
        a write needs no read before it."""
        ...

    def check_inputs(self) -> None:
        """Check local inputs (packages, definitions) before any AWS call; raise TargetError."""
        ...

    def read_alias(self) -> AliasState | None:
        """The alias as AWS reports it now, or None when it does not exist."""
        ...

    def prepare(self, values: Mapping[str, str]) -> Release:
        """Decide what publishing would do; reads only. `values` fill definition placeholders."""
        ...

    @property
    def reads_published_versions(self) -> bool:
        """Whether preparing this target reads versions that earlier targets publish (a state
        machine definition's placeholders), so their publishing must be finished first."""
        ...

    def begin_publish(self, release: Release) -> None:
        """Start what publishing waits on (Lambda's code update), so many can run at once."""
        ...

    def publish(
        self, release: Release, values: Mapping[str, str], description: str
    ) -> PublishedVersion:
        """Publish the new version (or return the existing one the release names)."""
        ...

    def version_arn(self, version: str) -> str:
        """The ARN of one of this target's versions."""
        ...

    def content_digest(self, version: str) -> str:
        """What `version` runs, as a digest comparable across regions (`code 3q2+7w…`)."""
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

    def reason(self, name: str) -> str:
        """Why the alarm is in its state, as CloudWatch said at the last read; "" if unknown."""
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


class HookKind(str, Enum):
    """What runs a hook."""

    LAMBDA = "lambda"
    STEPFUNCTIONS = "stepfunctions"
    COMMAND = "command"
    HTTP = "http"


@dataclass(frozen=True)
class HookSpec:
    """A check to run against the new version, as the engine receives it from the plan."""

    kind: HookKind
    value: str  # the function, state machine, command line or URL, as written
    timeout_seconds: float = 300.0

    def describe(self) -> str:
        """`lambda smoke-test`, `command ./smoke.sh`, …, with any secret it carries masked."""
        # Events and summaries show this; a URL may carry a password or a token.
        return redact(f"{self.kind.value} {self.value}")


@dataclass(frozen=True)
class HookContext:
    """What a hook is told about the release it checks."""

    region: str
    target: str
    phase: str  # before_traffic | after_traffic | on_pause
    alias_arn: str
    new_version: str
    new_version_arn: str
    old_version: str | None
    # The region's placeholder values a hook may use: `{tf.NAME}`, `{targets.NAME.version}`.
    values: Mapping[str, str] = field(default_factory=dict)
    promote_command: str = ""  # on_pause only: the command line that releases the pause

    def payload(self) -> dict[str, str | None]:
        """What a Lambda or Step Functions hook receives as its input."""
        payload = {
            "region": self.region,
            "target": self.target,
            "phase": self.phase,
            "alias_arn": self.alias_arn,
            "new_version": self.new_version,
            "new_version_arn": self.new_version_arn,
            "old_version": self.old_version,
        }
        if self.promote_command:
            payload["promote_command"] = self.promote_command
        return payload


@dataclass(frozen=True)
class HookOutcome:
    """Whether a hook passed, and what it said."""

    passed: bool
    detail: str


class HookRunner(Protocol):
    """Runs one hook of the plan (lambda, stepfunctions, command or http)."""

    def run(self, hook: HookSpec, context: HookContext) -> HookOutcome:
        """Run `hook` to completion or its timeout; never raises for the hook's own failure."""
        ...


class TargetStatus(str, Enum):
    """Where one target of one region stands, as the journal records it."""

    CREATING = "creating"  # a version published for an alias that does not exist yet
    CREATED = "created"  # the alias was created at the new version (first deploy)
    UNCHANGED = "unchanged"  # the alias already served this release
    PUBLISHED = "published"  # the new version exists; no traffic moved yet
    SHIFTING = "shifting"
    DONE = "done"  # every step taken: the alias serves the new version
    ROLLING_BACK = "rolling_back"
    ROLLED_BACK = "rolled_back"

    @property
    def unfinished(self) -> bool:
        """Traffic may still move for this target (a release or a rollback under way)."""
        return self in (TargetStatus.PUBLISHED, TargetStatus.SHIFTING, TargetStatus.ROLLING_BACK)

    @property
    def backing_out(self) -> bool:
        """A rollback was decided for this target."""
        return self in (TargetStatus.ROLLING_BACK, TargetStatus.ROLLED_BACK)

    @property
    def restorable(self) -> bool:
        """The alias had a routing before the rollout that rollback may have to put back."""
        return self in (
            TargetStatus.PUBLISHED,
            TargetStatus.SHIFTING,
            TargetStatus.DONE,
            TargetStatus.ROLLING_BACK,
            TargetStatus.ROLLED_BACK,
        )


@dataclass(frozen=True)
class TargetSnapshot:
    """Everything needed to resume or roll back one target, as the engine last knew it."""

    status: TargetStatus
    alias_arn: str = ""
    initial: AliasRouting | None = None
    last: AliasRouting | None = None
    pending: AliasRouting | None = None
    old_version: str | None = None
    new_version: str | None = None
    new_version_arn: str | None = None
    step: int = 0
    paused: bool = False  # waiting at a manual pause (step is the pause's index)
    # Wall-clock end of the bake under way, so `rollout status` can say how long is left.
    bake_ends_at: datetime | None = None
    notified: bool = False  # the on_pause hook ran for the pause at `step`


class JournalError(Exception):
    """The journal could not record progress (the state store failed)."""


class Journal(Protocol):
    """Records progress durably, before and after every change."""

    def targets(self, region: str, snapshots: Mapping[str, TargetSnapshot]) -> None:
        """Record several targets of a region in one durable write, JournalError otherwise."""
        ...


class NullJournal:
    """Records nothing (previews and tests that need no state)."""

    def targets(self, region: str, snapshots: Mapping[str, TargetSnapshot]) -> None:
        """Forget them."""
