"""The state document of one rollout name: versions, recorded routing, steps taken, requests.

Written before and after every alias change, so that at any instant it says
what to restore (`initial`) and what rollout itself last set (`last`, `pending`).
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from enum import Enum

from pydantic import BaseModel, ConfigDict, Field

from rollout.engine.outcome import Outcome
from rollout.engine.ports import TargetStatus
from rollout.engine.routing import AliasRouting
from rollout.names import resource_name

FORMAT = 2  # 2: the region scope and the resources each target resolved to are recorded


class RolloutStatus(str, Enum):
    """How a rollout (or one of its regions) stands."""

    IN_PROGRESS = "in_progress"
    SUCCEEDED = "succeeded"
    NOTHING_TO_DO = "nothing_to_do"
    ROLLED_BACK = "rolled_back"
    NEEDS_HUMAN = "needs_human"
    FAILED = "failed"  # stopped before any traffic moved

    @classmethod
    def of(cls, outcome: Outcome) -> RolloutStatus:
        """The status an engine outcome is recorded as."""
        return _STATUS_OF_OUTCOME[outcome]


_STATUS_OF_OUTCOME = {
    Outcome.SUCCEEDED: RolloutStatus.SUCCEEDED,
    Outcome.NOTHING_TO_DO: RolloutStatus.NOTHING_TO_DO,
    Outcome.ROLLED_BACK: RolloutStatus.ROLLED_BACK,
    Outcome.NEEDS_HUMAN: RolloutStatus.NEEDS_HUMAN,
    Outcome.FAILED_BEFORE_TRAFFIC: RolloutStatus.FAILED,
    Outcome.SKIPPED: RolloutStatus.FAILED,
}


class TargetKind(str, Enum):
    """What a target releases."""

    LAMBDA = "lambda"
    STEPFUNCTIONS = "stepfunctions"


def utcnow() -> datetime:
    """Now, in UTC."""
    return datetime.now(timezone.utc)


class RoutingRecord(BaseModel):
    """An alias routing as stored: the base version and the others' percentages (as text)."""

    model_config = ConfigDict(frozen=True)

    version: str
    additional: list[tuple[str, str]] = Field(default_factory=list)

    @classmethod
    def of(cls, routing: AliasRouting) -> RoutingRecord:
        return cls(version=routing.version, additional=[(v, str(w)) for v, w in routing.additional])

    def routing(self) -> AliasRouting:
        return AliasRouting(self.version, tuple((v, Decimal(w)) for v, w in self.additional))


class TargetIdentity(BaseModel):
    """The AWS resource a target resolved to in one region, as the release touched it."""

    model_config = ConfigDict(frozen=True)

    kind: TargetKind
    name: str  # the function's name, or the state machine's name or ARN
    alias: str

    def describe(self) -> str:
        """`lambda orders-api:live`."""
        return f"{self.kind.value} {resource_name(self.name)}:{self.alias}"

    def same_alias(self, other: TargetIdentity) -> bool:
        """Whether both name one alias, one by name and the other by ARN included."""
        return (self.kind, resource_name(self.name), self.alias) == (
            other.kind,
            resource_name(other.name),
            other.alias,
        )


class TargetRecord(BaseModel):
    """One target in one region."""

    alias_arn: str = ""
    status: TargetStatus = TargetStatus.PUBLISHED
    initial: RoutingRecord | None = None  # the routing before the rollout's first change
    last: RoutingRecord | None = None  # what rollout last set
    pending: RoutingRecord | None = None  # a write under way; AWS may hold it or `last`
    old_version: str | None = None
    new_version: str | None = None
    new_version_arn: str | None = None
    step: int = 0  # the index of the next step to take
    paused: bool = False  # waiting at the manual pause `step`
    bake_ends_at: datetime | None = None  # when the bake under way ends (wall clock, UTC)
    notified: bool = False  # the on_pause hook ran for the manual pause `step`
    updated_at: datetime = Field(default_factory=utcnow)


class TerraformStatus(str, Enum):
    """How far a region's terraform stage got."""

    APPLYING = "applying"  # a saved plan with changes was being applied
    APPLIED = "applied"
    UNCHANGED = "unchanged"  # the plan had nothing to change
    FAILED = "failed"

    @property
    def finished(self) -> bool:
        return self in (TerraformStatus.APPLIED, TerraformStatus.UNCHANGED)


class TerraformRecord(BaseModel):
    """A region's terraform stage: what it changed and the outputs the release used.

    Sensitive outputs are never written in clear: only a digest, to check the value
    read again on resume is the one the release used.
    """

    status: TerraformStatus
    summary: str = ""  # "1 added, 0 changed, 0 destroyed"
    outputs: dict[str, str] = Field(default_factory=dict)
    sensitive: dict[str, str] = Field(default_factory=dict)  # name -> sha256 of the value
    message: str = ""


class NginxRecord(BaseModel):
    """A region's nginx configuration as the release wrote it."""

    path: str
    digest: str  # sha256 of the text written
    changed: bool
    checked: str  # "passed", or why `nginx -t` did not run


class RegionRecord(BaseModel):
    """One region: the scope it ran with, what each target resolved to, and how it ended."""

    status: RolloutStatus = RolloutStatus.IN_PROGRESS
    message: str = ""
    scope: dict[str, str] = Field(default_factory=dict)  # placeholder values, e.g. tf outputs
    resources: dict[str, TargetIdentity] = Field(default_factory=dict)
    targets: dict[str, TargetRecord] = Field(default_factory=dict)
    terraform: TerraformRecord | None = None
    nginx: NginxRecord | None = None

    @property
    def moved(self) -> bool:
        """Whether the record says traffic may have left the recorded routing here."""
        return any(
            t.pending is not None
            or (t.initial is not None and t.last is not None and t.initial != t.last)
            for t in self.targets.values()
        )


class Requests(BaseModel):
    """What other processes asked the running apply to do."""

    abort: bool = False
    # "REGION/TARGET" -> the index of the manual pause released: a promote releases the
    # pause it was sent for, never a later one.
    promotions: dict[str, int] = Field(default_factory=dict)
    promote_full: bool = False


class Starter(BaseModel):
    """Who started a rollout: the user and host, and the CI run when it ran in CI."""

    user: str
    host: str
    ci_url: str | None = None

    def describe(self) -> str:
        """`ana@laptop`, then the CI run's URL when there is one."""
        return f"{self.user}@{self.host}{f' {self.ci_url}' if self.ci_url else ''}"


class RolloutRecord(BaseModel):
    """One rollout of a plan name."""

    format: int = FORMAT
    id: str
    plan: str
    plan_hash: str
    # A fingerprint per part of the plan (`regions`, `targets.api`, …), to name what changed.
    plan_parts: dict[str, str] = Field(default_factory=dict)
    status: RolloutStatus = RolloutStatus.IN_PROGRESS
    planned_regions: list[str] = Field(default_factory=list)  # every region it set out to do
    planned_targets: list[str] = Field(default_factory=list)  # and every target (all: empty)
    # Regions a `rollout rollback` set out to restore: a rollback cut short is finished by
    # `resume` before anything else.
    rollback_regions: list[str] = Field(default_factory=list)
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    started_by: Starter | None = None  # None in records written before it was kept
    regions: dict[str, RegionRecord] = Field(default_factory=dict)

    @property
    def unfinished(self) -> bool:
        """Still under way, or a rollback of it was cut short (it is owed, whatever the status)."""
        return self.status is RolloutStatus.IN_PROGRESS or any(
            target.status is TargetStatus.ROLLING_BACK
            for region in self.regions.values()
            for target in region.targets.values()
        )

    def rollback_owed(self) -> list[str]:
        """The regions a cut-short `rollout rollback` still has to restore."""
        return [
            name
            for name in self.rollback_regions
            if name in self.regions and self.regions[name].status is not RolloutStatus.ROLLED_BACK
        ]

    def every_region_ended(self) -> bool:
        """Whether every region the rollout set out to do has ended, one way or another."""
        names = self.planned_regions or list(self.regions)
        return all(
            name in self.regions and self.regions[name].status is not RolloutStatus.IN_PROGRESS
            for name in names
        )


# A holder shows it is alive this often while it waits; one silent for much longer is gone
# (a cancelled CI runner on another host, whose pid nobody here can check) or stuck.
LOCK_HEARTBEAT_SECONDS = 30.0
LOCK_SILENT_SECONDS = 120.0


class LockHolder(BaseModel):
    """Who holds the lock of a rollout name."""

    user: str
    host: str
    pid: int
    rollout_id: str
    started_at: datetime = Field(default_factory=utcnow)
    refreshed_at: datetime = Field(default_factory=utcnow)
    ci_url: str | None = None
    problem: str | None = None  # set when the lock file itself could not be read

    def describe(self) -> str:
        if self.problem is not None:
            return self.problem
        where = f" ({self.ci_url})" if self.ci_url else ""
        silent = self.silent_for(utcnow())
        heard = f", not heard from for {silent:.0f}s" if silent > LOCK_SILENT_SECONDS else ""
        return (
            f"{self.user}@{self.host} pid {self.pid}, rollout {self.rollout_id}, since "
            f"{self.started_at:%Y-%m-%d %H:%M:%S}Z{where}{heard}"
        )

    def silent_for(self, now: datetime) -> float:
        """Seconds since the holder last showed it was alive."""
        return (now - self.refreshed_at).total_seconds()
