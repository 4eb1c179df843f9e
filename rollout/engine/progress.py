"""One target's progress through its steps, and the journal and drift checks every change passes.

Shared by the release (moving forward) and the rollback (moving back), so both
read, check and record an alias in exactly the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from rollout.engine import events as ev
from rollout.engine.ports import (
    AliasConflictError,
    HookSpec,
    Journal,
    PublishedVersion,
    TargetAdapter,
    TargetSnapshot,
    TargetStatus,
)
from rollout.engine.routing import HUNDRED, AliasRouting, AliasState
from strategies import Shift, Step


@dataclass(frozen=True)
class TargetRun:
    """One target as the engine sees it: an adapter, steps, rendered alarm names and hooks."""

    name: str
    adapter: TargetAdapter
    steps: tuple[Step, ...]
    alarms: tuple[str, ...] = ()
    before_traffic: HookSpec | None = None
    after_traffic: HookSpec | None = None
    on_pause: HookSpec | None = None  # tells a human that a manual pause waits for them


class DriftError(Exception):
    """An alias is not what rollout last set: someone else changed it."""


@dataclass
class TargetProgress:
    """Where one target is in its steps, and the routings that matter for going back."""

    run: TargetRun
    initial: AliasState  # before the rollout's first change: what a rollback restores
    last: AliasState  # what rollout last set
    old: str
    new: PublishedVersion
    index: int = 0
    bake_until: float | None = None
    bake_ends_at: datetime | None = None  # bake_until on the wall clock, for the record
    paused: bool = False
    notified: bool = False  # the on_pause hook ran for the pause at `index`
    pending: AliasRouting | None = None  # a write whose answer is not known yet
    drifted: bool = False
    found: AliasRouting | None = None  # what a drifted alias serves, as last read

    @property
    def serving(self) -> str:
        """What the alias serves as far as rollout knows: what it found, when it drifted."""
        if self.drifted:
            return self.found.describe() if self.found else "no alias"
        return self.last.routing.describe()

    @property
    def done(self) -> bool:
        return self.index >= len(self.run.steps)

    @property
    def moved(self) -> bool:
        """Whether this rollout may have changed the alias."""
        return self.pending is not None or not self.last.routing.same_as(self.initial.routing)

    @property
    def serves_new(self) -> bool:
        """Whether the alias sends all of its traffic to the new version."""
        return self.last.routing.weight_of(self.new.version) >= HUNDRED

    @classmethod
    def restored(cls, run: TargetRun, snapshot: TargetSnapshot) -> TargetProgress:
        """Progress as a journal recorded it; a recorded end counts only if the alias got there."""
        assert snapshot.initial is not None and snapshot.last is not None
        assert snapshot.new_version is not None and snapshot.old_version is not None
        arn = snapshot.alias_arn
        item = cls(
            run,
            AliasState(arn, snapshot.initial),
            AliasState(arn, snapshot.last),
            snapshot.old_version,
            PublishedVersion(snapshot.new_version, snapshot.new_version_arn or ""),
            index=min(snapshot.step, len(run.steps)),
            pending=snapshot.pending,
            # A resume while still paused must not tell the human a second time.
            notified=snapshot.paused and snapshot.notified,
        )
        if item.done and not item.serves_new:
            # The steps changed since (an edited plan, resumed with --force): finish with the
            # move to 100% rather than calling a split alias done.
            item.index = last_shift_index(run.steps)
        item.index = _not_backwards(run.steps, item.index, item.reached)
        return item

    @property
    def reached(self) -> Decimal:
        """The largest share of the new version the alias may hold (a write in doubt counts)."""
        routings = [self.last.routing, *([self.pending] if self.pending else [])]
        return max(routing.weight_of(self.new.version) for routing in routings)

    def snapshot(self, status: TargetStatus) -> TargetSnapshot:
        return TargetSnapshot(
            status=status,
            alias_arn=self.initial.arn,
            initial=self.initial.routing,
            last=self.last.routing,
            pending=self.pending,
            old_version=self.old,
            new_version=self.new.version,
            new_version_arn=self.new.arn,
            step=self.index,
            paused=self.paused,
            bake_ends_at=self.bake_ends_at if status is TargetStatus.SHIFTING else None,
            notified=self.notified,
        )


def _not_backwards(steps: tuple[Step, ...], index: int, reached: Decimal) -> int:
    """`index`, or where to carry on instead when the next traffic move of (edited) steps
    would take traffic back from the new version: right after the last move at or below the
    share it reached, so that its bake is watched before traffic grows again."""
    upcoming = next((s for s in steps[index:] if isinstance(s, Shift)), None)
    if upcoming is None or upcoming.weight >= reached:
        return index
    below = [i for i, s in enumerate(steps) if isinstance(s, Shift) and s.weight <= reached]
    # Never past the move to 100%: a write of it still in doubt is made again.
    return max(index, min(below[-1] + 1, last_shift_index(steps)))


def last_shift_index(steps: tuple[Step, ...]) -> int:
    """The index of the last traffic move (the one to 100%)."""
    return max((i for i, step in enumerate(steps) if isinstance(step, Shift)), default=0)


class GuardedJournal:
    """The journal, remembering its first failure: a lost state store must not stop a rollback.

    A change that only says where a target got to (a step passed, a bake begun) is held
    until the next write, which carries it along: every write rewrites the whole document,
    and what must be durable before AWS changes anything is the write about to be sent.
    """

    def __init__(self, journal: Journal, region: str) -> None:
        self.journal = journal
        self.region = region
        self.lost: str | None = None
        self._held: dict[str, TargetSnapshot] = {}

    def record(self, name: str, snapshot: TargetSnapshot) -> None:
        """Write through, with whatever is held; raise the first failure, and write nothing
        more after it."""
        self._write({**self._held, name: snapshot})

    def hold(self, name: str, snapshot: TargetSnapshot) -> None:
        """Keep `snapshot` for the next write: a process killed before it lands resumes from
        the write before, which names this target's alias write as pending."""
        self._held[name] = snapshot

    def flush(self) -> None:
        """Write what is held, if anything; raises like `record`."""
        if self._held:
            self._write(dict(self._held))

    def record_all_quietly(self, snapshots: Mapping[str, TargetSnapshot]) -> None:
        """Several targets in one write, if the store still answers; a failure is remembered."""
        if not snapshots and not self._held:
            return
        try:
            self._write({**self._held, **snapshots})
        except Exception:  # already remembered in self.lost
            return

    def _write(self, snapshots: Mapping[str, TargetSnapshot]) -> None:
        if self.lost is not None:
            return
        try:
            self.journal.targets(self.region, snapshots)
        except Exception as exc:  # whatever the store raised, progress is no longer durable
            self.lost = str(exc) or type(exc).__name__
            raise
        self._held.clear()


def writable_unread(item: TargetProgress) -> bool:
    """Whether the next write may go without reading the alias: AWS refuses a stale revision,
    rollout holds the one its last write returned, and no write's answer is in doubt."""
    return (
        item.run.adapter.revision_guarded
        and item.pending is None
        and item.last.revision is not None
    )


def set_routing(
    item: TargetProgress,
    routing: AliasRouting,
    region: str,
    emit: ev.EventSink,
    before_write: Callable[[], None],
) -> None:
    """Move the alias to `routing`, never over a change made outside rollout (DriftError).

    A revision-guarded alias is written unread, and read only when AWS refuses the revision;
    any other is read and checked first. `before_write` journals the write as pending.
    """
    unread = writable_unread(item)
    expected = item.last if unread else read_checked(item, region, emit)
    # If the write's answer is lost, AWS may hold either routing: both are rollout's own.
    item.pending = routing
    before_write()
    adapter = item.run.adapter
    try:
        item.last = adapter.update_alias(routing, expected)
    except AliasConflictError:
        if not unread:
            raise
        # Someone wrote since: drift if the routing changed, else only the revision moved.
        item.last = adapter.update_alias(routing, read_checked(item, region, emit))
    item.pending = None


def read_checked(item: TargetProgress, region: str, emit: ev.EventSink) -> AliasState:
    """The alias as AWS has it now, which must be what rollout last set (or was setting)."""
    return check_ours(item, item.run.adapter.read_alias(), region, emit)


def check_ours(
    item: TargetProgress, current: AliasState | None, region: str, emit: ev.EventSink
) -> AliasState:
    """`current`, if it is what rollout last set (or was setting); DriftError otherwise."""
    found = current.routing if current is not None else None
    ours = [item.last.routing, *([item.pending] if item.pending else [])]
    if not any(routing.same_as(found) for routing in ours):
        item.drifted, item.found = True, found
        shown = found.describe() if found else "no alias"
        emit(
            ev.DriftDetected(
                region=region,
                target=item.run.name,
                expected=item.last.routing.describe(),
                found=shown,
            )
        )
        raise DriftError(
            f"{item.run.name}: the alias changed outside rollout (expected "
            f"{item.last.routing.describe()}, found {shown}); left as found"
        )
    assert current is not None
    return current
