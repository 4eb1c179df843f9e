"""The state document of one rollout name: versions, recorded routing, steps taken, requests.

Written before and after every alias change, so that at any instant it says
what to restore (`initial`) and what rollout itself last set (`last`, `pending`).
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from rollout.engine.routing import AliasRouting

FORMAT = 1

RolloutStatus = Literal[
    "in_progress", "succeeded", "rolled_back", "needs_human", "failed", "nothing_to_do"
]
TargetStatus = Literal[
    "published",
    "shifting",
    "done",
    "rolling_back",
    "rolled_back",
    "unchanged",
    "creating",
    "created",
]


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


class TargetRecord(BaseModel):
    """One target in one region."""

    kind: str
    alias_arn: str = ""
    status: TargetStatus = "published"
    initial: RoutingRecord | None = None  # the routing before the rollout's first change
    last: RoutingRecord | None = None  # what rollout last set
    pending: RoutingRecord | None = None  # a write under way; AWS may hold it or `last`
    old_version: str | None = None
    new_version: str | None = None
    new_version_arn: str | None = None
    step: int = 0  # the index of the next step to take
    updated_at: datetime = Field(default_factory=utcnow)


class RegionRecord(BaseModel):
    """One region's targets and how the region ended."""

    status: RolloutStatus = "in_progress"
    message: str = ""
    targets: dict[str, TargetRecord] = Field(default_factory=dict)


class Requests(BaseModel):
    """What other processes asked the running apply to do."""

    abort: bool = False
    promotions: dict[str, int] = Field(default_factory=dict)  # target → manual pauses released
    promote_full: bool = False


class RolloutRecord(BaseModel):
    """One rollout of a plan name."""

    format: int = FORMAT
    id: str
    plan: str
    plan_hash: str
    status: RolloutStatus = "in_progress"
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    regions: dict[str, RegionRecord] = Field(default_factory=dict)
    requests: Requests = Field(default_factory=Requests)


class LockHolder(BaseModel):
    """Who holds the lock of a rollout name."""

    user: str
    host: str
    pid: int
    rollout_id: str
    started_at: datetime = Field(default_factory=utcnow)
    refreshed_at: datetime = Field(default_factory=utcnow)
    ci_url: str | None = None

    def describe(self) -> str:
        where = f" ({self.ci_url})" if self.ci_url else ""
        return (
            f"{self.user}@{self.host} pid {self.pid}, rollout {self.rollout_id}, since "
            f"{self.started_at:%Y-%m-%d %H:%M:%S}Z{where}"
        )
