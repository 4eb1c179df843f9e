"""Fakes with real state for engine tests: in-memory aliases, alarms, hooks, a fake clock."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from rollout.engine.events import Event
from rollout.engine.ports import (
    AliasConflictError,
    HookContext,
    HookOutcome,
    HookSpec,
    PublishedVersion,
    Release,
    TargetError,
)
from rollout.engine.routing import AliasRouting, AliasState


class FakeClock:
    """Time that moves only when someone sleeps; callbacks fire when their time comes."""

    def __init__(self) -> None:
        self.time = 0.0
        self.sleeps: list[float] = []
        self.timers: list[tuple[float, Callable[[], None]]] = []

    def monotonic(self) -> float:
        return self.time

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.time += max(seconds, 0.0)
        due = [t for t in self.timers if t[0] <= self.time]
        self.timers = [t for t in self.timers if t[0] > self.time]
        for _, action in due:
            action()

    def at(self, when: float, action: Callable[[], None]) -> None:
        """Run `action` once the clock reaches `when` seconds."""
        self.timers.append((when, action))

    def now(self) -> datetime:
        return datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=self.time)


@dataclass
class FakeTarget:
    """An alias with versions; records every routing it was given, with the time.

    Like Lambda, it refuses a write carrying a stale revision (unless `revision_guarded` is
    False, as with Step Functions, where the caller must read before it writes).
    """

    clock: FakeClock
    name: str = "fn"
    code: str = "v2-code"
    versions: dict[str, str] = field(default_factory=lambda: {"1": "v1-code"})
    alias: AliasState | None = field(
        default_factory=lambda: AliasState("arn:fn:live", AliasRouting("1"), "r0")
    )
    history: list[tuple[float, AliasRouting]] = field(default_factory=list)
    fail_update_at_call: int | None = None
    updates: int = 0
    reads: int = 0
    revision_guarded: bool = True
    reads_published_versions: bool = False

    def begin_publish(self, release: Release) -> None:
        pass

    def check_inputs(self) -> None:
        pass

    def read_alias(self) -> AliasState | None:
        self.reads += 1
        return self.alias

    def prepare(self, values: Mapping[str, str]) -> Release:
        if self.alias is None:
            return Release(None, True, "first deploy")
        served = self.versions[self.alias.routing.base]
        return Release(
            self.alias, served != self.code, "unchanged" if served == self.code else "new"
        )

    def publish(
        self, release: Release, values: Mapping[str, str], description: str
    ) -> PublishedVersion:
        number = str(len(self.versions) + 1)
        self.versions[number] = self.code
        return PublishedVersion(number, f"arn:fn:{number}")

    def version_arn(self, version: str) -> str:
        return f"arn:fn:{version}"

    def create_alias(self, version: str) -> AliasState:
        self.alias = AliasState("arn:fn:live", AliasRouting(version), "r0")
        self.history.append((self.clock.time, self.alias.routing))
        return self.alias

    def update_alias(self, routing: AliasRouting, expected: AliasState) -> AliasState:
        self.updates += 1
        if self.fail_update_at_call is not None and self.updates >= self.fail_update_at_call:
            raise TargetError(f"UpdateAlias on {self.name}:live failed: throttled")
        assert self.alias is not None
        if expected.revision != self.alias.revision:
            if self.revision_guarded:
                raise AliasConflictError(f"UpdateAlias on {self.name}:live failed: stale revision")
            raise AssertionError("an unguarded alias was written without reading it first")
        self.alias = AliasState("arn:fn:live", routing, f"r{self.updates}")
        self.history.append((self.clock.time, routing))
        return self.alias

    def weights(self) -> list[tuple[float, float]]:
        """(time, percent on the newest version) for every change."""
        newest = max(self.versions, key=int)
        return [(t, float(r.weight_of(newest))) for t, r in self.history]


@dataclass
class FakeAlarms:
    """Alarm states that tests change over time; counts the reads."""

    states_now: dict[str, str] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)
    calls: int = 0

    def states(self, names: Sequence[str]) -> Mapping[str, str]:
        self.calls += 1
        return {n: self.states_now[n] for n in names if n in self.states_now}

    def reason(self, name: str) -> str:
        return self.reasons.get(name, "")


@dataclass
class FakeHooks:
    """Hooks that pass unless told otherwise; remembers what they were run against."""

    failing_phases: set[str] = field(default_factory=set)
    runs: list[HookContext] = field(default_factory=list)

    def run(self, hook: HookSpec, context: HookContext) -> HookOutcome:
        self.runs.append(context)
        passed = context.phase not in self.failing_phases
        return HookOutcome(passed, "ok" if passed else "smoke test returned 500")


@dataclass
class EventLog:
    """Collects events."""

    events: list[Event] = field(default_factory=list)

    def __call__(self, event: Event) -> None:
        self.events.append(event)

    def kinds(self) -> list[str]:
        return [e.kind for e in self.events]
