"""One process's hold on a rollout name: the lock, the journal of progress, and requests.

`RolloutSession` is what `apply`, `resume` and `rollback` open: it takes the
lock, writes the state document before and after every change, reads abort
and promote requests from other processes, and at the end records the
outcome, appends the history and releases the lock. A state store that stops
answering is reported as a `JournalError`, so that the engine rolls back
from memory instead of stopping half-way.
"""

from __future__ import annotations

import getpass
import os
import socket
import threading
import uuid
from collections.abc import Callable, Mapping

from rollout.engine.outcome import Outcome
from rollout.engine.ports import Clock, JournalError, TargetSnapshot
from rollout.engine.routing import AliasRouting
from rollout.interrupts import signal_reason
from rollout.state.lock_keeper import LockKeeper
from rollout.state.model import (
    LOCK_HEARTBEAT_SECONDS,
    LockHolder,
    NginxRecord,
    RegionRecord,
    Requests,
    RolloutRecord,
    RolloutStatus,
    RoutingRecord,
    Starter,
    TargetIdentity,
    TargetRecord,
    TerraformRecord,
    utcnow,
)
from rollout.state.store import LockHeldError, StateError, StateStore

CI_URL_VARIABLES = (
    ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID"),
    ("BUILD_URL",),  # Jenkins
    ("CI_JOB_URL",),  # GitLab
)
# A write may show the lock's holder is alive this often; it is judged silent after
# LOCK_SILENT_SECONDS, so once a write every few seconds is plenty.
LOCK_REFRESH_ON_WRITE_SECONDS = 5.0
REQUEST_READ_SECONDS = 0.2  # how stale a read of the requests file may be


def ci_url() -> str | None:
    """The CI run's URL, from the variables the usual CI systems set."""
    for names in CI_URL_VARIABLES:
        values = [os.environ.get(name) for name in names]
        if all(values):
            if len(names) == 3:
                return f"{values[0]}/{values[1]}/actions/runs/{values[2]}"
            return values[0]
    return None


def new_holder(rollout_id: str) -> LockHolder:
    """This process, as a lock holder."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return LockHolder(
        user=user,
        host=socket.gethostname(),
        pid=os.getpid(),
        rollout_id=rollout_id,
        ci_url=ci_url(),
    )


def _routing(record: RoutingRecord | None) -> AliasRouting | None:
    return record.routing() if record else None


def _record(routing: AliasRouting | None) -> RoutingRecord | None:
    return RoutingRecord.of(routing) if routing else None


def snapshot_of(record: TargetRecord) -> TargetSnapshot:
    """The engine's view of a stored target."""
    return TargetSnapshot(
        status=record.status,
        alias_arn=record.alias_arn,
        initial=_routing(record.initial),
        last=_routing(record.last),
        pending=_routing(record.pending),
        old_version=record.old_version,
        new_version=record.new_version,
        new_version_arn=record.new_version_arn,
        step=record.step,
        paused=record.paused,
        bake_ends_at=record.bake_ends_at,
        notified=record.notified,
    )


def _target_record(snapshot: TargetSnapshot) -> TargetRecord:
    """How a target's progress is stored."""
    return TargetRecord(
        alias_arn=snapshot.alias_arn,
        status=snapshot.status,
        initial=_record(snapshot.initial),
        last=_record(snapshot.last),
        pending=_record(snapshot.pending),
        old_version=snapshot.old_version,
        new_version=snapshot.new_version,
        new_version_arn=snapshot.new_version_arn,
        step=snapshot.step,
        paused=snapshot.paused,
        bake_ends_at=snapshot.bake_ends_at,
        notified=snapshot.notified,
    )


def promotion_key(region: str, target: str) -> str:
    """How a promote request names one target of one region."""
    return f"{region}/{target}"


class RolloutSession:
    """The lock and the journal of one rollout."""

    def __init__(
        self,
        store: StateStore,
        record: RolloutRecord,
        clock: Clock,
        *,
        keep_lock_every: float = LOCK_HEARTBEAT_SECONDS,
    ) -> None:
        self.store = store
        self.record = record
        self.clock = clock
        self.holder = new_holder(record.id)
        self._write_lock = threading.Lock()
        self._refresh_guard = threading.Lock()  # the keeper's thread refreshes too
        self._keeper = LockKeeper(self._refresh_lock, keep_lock_every)
        self._requests = Requests()
        self._requests_read_at = float("-inf")
        self._refreshed_at = clock.monotonic()
        self.interrupted = threading.Event()
        self._signal = ""  # the name of the signal that set `interrupted`
        self._stop_reason: str | None = None  # set by `stop_everywhere`

    @classmethod
    def start(
        cls,
        store: StateStore,
        name: str,
        clock: Clock,
        *,
        plan_hash: str,
        plan_parts: Mapping[str, str],
        keep_lock_every: float = LOCK_HEARTBEAT_SECONDS,
    ) -> RolloutSession:
        """A new rollout of `name`; nothing is written until `begin`."""
        record = RolloutRecord(
            id=uuid.uuid4().hex[:12], plan=name, plan_hash=plan_hash, plan_parts=dict(plan_parts)
        )
        session = cls(store, record, clock, keep_lock_every=keep_lock_every)
        holder = session.holder
        record.started_by = Starter(user=holder.user, host=holder.host, ci_url=holder.ci_url)
        return session

    # -- the lock ------------------------------------------------------------------------------

    def take_lock(self, say: Callable[[str], None]) -> None:
        """Take the lock, taking over one whose holder died on this host; clear old requests."""
        name = self.record.plan
        try:
            self.store.acquire_lock(name, self.holder)
        except LockHeldError as held:
            if not held.dead:
                raise
            say(
                "taking over the lock of a process that is no longer running: "
                f"{held.holder.describe()}"
            )
            self.store.break_lock(name, only=held.holder)  # not one another taker took since
            self.store.acquire_lock(name, self.holder)
        try:
            self.store.clear_requests(name)
        except BaseException:
            self.release_lock()  # a store that cannot be written must not stay locked
            raise
        self._keeper.start()

    def release_lock(self) -> str | None:
        """Give the lock back; the store's complaint, if any, instead of raising."""
        self._keeper.stop()  # first: a refresh after the release would write the lock anew
        try:
            self.store.release_lock(self.record.plan, self.holder)
        except StateError as exc:
            return str(exc)
        return None

    # -- the journal the engine and the pipeline write through ---------------------------------

    def begin(self, regions: list[str], targets: list[str]) -> None:
        """Write the new record of a rollout of `regions` and `targets` (all when empty): from
        here on, `rollback` and `resume` know it."""
        self.record.planned_regions = list(regions)
        self.record.planned_targets = list(targets)
        self._save()

    def rollback_begins(self, regions: list[str]) -> None:
        """Record that `rollout rollback` sets out to restore `regions`, before it changes
        anything: a process killed from here on leaves a rollback that `resume` finishes and
        `apply` will not overwrite."""
        with self._write_lock:
            self.record.status = RolloutStatus.IN_PROGRESS
            self.record.finished_at = None
            self.record.rollback_regions = sorted({*self.record.rollback_regions, *regions})
            self._save()

    def _save(self) -> None:
        try:
            self.store.write(self.record)
            if self.clock.monotonic() - self._refreshed_at >= LOCK_REFRESH_ON_WRITE_SECONDS:
                self._refresh_lock()
        except (StateError, OSError) as exc:
            raise JournalError(f"state store: {exc}") from exc

    def _refresh_lock(self) -> None:
        """Show the lock's holder is alive, so a rollback elsewhere can tell it from a dead one."""
        with self._refresh_guard:
            self.holder = self.holder.model_copy(update={"refreshed_at": utcnow()})
            self.store.refresh_lock(self.record.plan, self.holder)
            self._refreshed_at = self.clock.monotonic()

    def _region(self, region: str) -> RegionRecord:
        return self.record.regions.setdefault(region, RegionRecord())

    def resolved(
        self, region: str, scope: Mapping[str, str], resources: Mapping[str, TargetIdentity]
    ) -> None:
        """Record the region's placeholder values and the resources its targets resolved to."""
        with self._write_lock:
            stored = self._region(region)
            stored.scope = dict(scope)
            stored.resources.update(resources)
            self._save()

    def terraform(self, region: str, record: TerraformRecord) -> None:
        """Record how far the region's terraform stage got, before and after it applies."""
        with self._write_lock:
            self._region(region).terraform = record
            self._save()

    def nginx(self, region: str, record: NginxRecord) -> None:
        """Record the region's nginx configuration as written."""
        with self._write_lock:
            self._region(region).nginx = record
            self._save()

    def targets(self, region: str, snapshots: Mapping[str, TargetSnapshot]) -> None:
        """Record several targets' progress in one write of the document."""
        with self._write_lock:
            stored = self._region(region).targets
            for name, snapshot in snapshots.items():
                stored[name] = _target_record(snapshot)
            self._save()

    def region_finished(self, region: str, outcome: Outcome, message: str) -> None:
        """Record how a region ended."""
        with self._write_lock:
            stored = self._region(region)
            stored.status = RolloutStatus.of(outcome)
            stored.message = message
            self._save()

    def finish(self, outcome: Outcome) -> str | None:
        """Record the rollout's end and add it to the history; the store's complaint, if any."""
        with self._write_lock:
            self.record.status = RolloutStatus.of(outcome)
            self.record.finished_at = utcnow()
            try:
                self._save()
                self.store.append_history(self.record)
            except (JournalError, StateError, OSError) as exc:
                return str(exc)
        return None

    # -- requests from other processes -----------------------------------------------------------

    def _current_requests(self) -> Requests:
        now = self.clock.monotonic()
        if now - self._requests_read_at >= REQUEST_READ_SECONDS:
            try:
                self._requests = self.store.read_requests(self.record.plan)
            except (StateError, OSError) as exc:
                raise JournalError(f"state store: {exc}") from exc
            self._requests_read_at = now
        return self._requests

    def signal_received(self, name: str) -> None:
        """Remember which signal asked for the rollback (called from the signal handler)."""
        self._signal = name

    def stop_everywhere(self, reason: str) -> None:
        """Ask every region still running to roll back, for `reason` (a peer that failed)."""
        self._stop_reason = self._stop_reason or reason

    def abort_reason(self) -> str:
        """Why the rollout is asked to roll back, in words for the last line and the reports."""
        if self.interrupted.is_set():
            return signal_reason(self._signal) if self._signal else "interrupted"
        return self._stop_reason or "aborted by `rollout abort`"

    def abort_requested(self) -> bool:
        """Ctrl-C, SIGTERM, `rollout abort` from elsewhere, or a failed peer (`stop_everywhere`)."""
        return (
            self.interrupted.is_set()
            or self._stop_reason is not None
            or self._current_requests().abort
        )

    def promoted(self, region: str, target: str, step: int) -> bool:
        """Whether `rollout promote` released the manual pause at `step` of this target."""
        return self._current_requests().promotions.get(promotion_key(region, target)) == step

    def full_promotion_requested(self) -> bool:
        """`rollout promote --full`."""
        return self._current_requests().promote_full
