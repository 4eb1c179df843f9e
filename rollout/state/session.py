"""One process's hold on a rollout name: the lock, the journal of progress, and requests.

`RolloutSession` is what `apply`, `resume` and `rollback` open: it takes the
lock, writes the state document before and after every change, reads abort
and promote requests from other processes, and on close records the outcome,
appends the history and releases the lock.
"""

from __future__ import annotations

import getpass
import hashlib
import os
import socket
import threading
import uuid
from collections.abc import Callable
from typing import cast

from rollout.engine.ports import Clock, TargetSnapshot
from rollout.engine.routing import AliasRouting
from rollout.state.model import (
    LockHolder,
    RegionRecord,
    Requests,
    RolloutRecord,
    RolloutStatus,
    RoutingRecord,
    TargetRecord,
    TargetStatus,
    utcnow,
)
from rollout.state.store import StateStore

CI_URL_VARIABLES = (
    ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID"),
    ("BUILD_URL",),  # Jenkins
    ("CI_JOB_URL",),  # GitLab
)
REQUEST_READ_SECONDS = 0.2  # how stale a read of the requests file may be


def plan_hash(text: str) -> str:
    """A short fingerprint of the plan file's text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


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
    )


class RolloutSession:
    """The lock and the journal of one rollout; a context manager."""

    def __init__(self, store: StateStore, record: RolloutRecord, clock: Clock) -> None:
        self.store = store
        self.record = record
        self.clock = clock
        self.holder = new_holder(record.id)
        self._write_lock = threading.Lock()
        self._requests = Requests()
        self._requests_read_at = float("-inf")
        self.interrupted = threading.Event()

    @classmethod
    def start(cls, store: StateStore, name: str, plan_text: str, clock: Clock) -> RolloutSession:
        """A new rollout of `name`; the lock is taken on entering."""
        record = RolloutRecord(id=uuid.uuid4().hex[:12], plan=name, plan_hash=plan_hash(plan_text))
        return cls(store, record, clock)

    def __enter__(self) -> RolloutSession:
        self.store.acquire_lock(self.record.plan, self.holder)
        self.store.write_requests(self.record.plan, Requests())
        self._save()
        return self

    def __exit__(self, *exc: object) -> None:
        self.store.release_lock(self.record.plan, self.holder)

    def _save(self) -> None:
        self.store.write(self.record)

    # -- the journal the engine writes through -----------------------------------------------

    def target(self, region: str, name: str, snapshot: TargetSnapshot) -> None:
        """Record one target's progress durably."""
        with self._write_lock:
            regions = self.record.regions.setdefault(region, RegionRecord())
            previous = regions.targets.get(name)
            regions.targets[name] = TargetRecord(
                kind=previous.kind if previous else "",
                alias_arn=snapshot.alias_arn or (previous.alias_arn if previous else ""),
                status=cast(TargetStatus, snapshot.status),
                initial=_record(snapshot.initial),
                last=_record(snapshot.last),
                pending=_record(snapshot.pending),
                old_version=snapshot.old_version,
                new_version=snapshot.new_version,
                new_version_arn=snapshot.new_version_arn,
                step=snapshot.step,
            )
            self._save()
            self.store.refresh_lock(self.record.plan, self.holder)

    def region_finished(self, region: str, outcome: str, message: str) -> None:
        """Record how a region ended."""
        with self._write_lock:
            regions = self.record.regions.setdefault(region, RegionRecord())
            regions.status = _status(outcome)
            regions.message = message
            self._save()

    def finish(self, outcome: str) -> None:
        """Record the rollout's end and add it to the history."""
        with self._write_lock:
            self.record.status = _status(outcome)
            self.record.finished_at = utcnow()
            self._save()
            self.store.append_history(self.record)

    # -- requests from other processes -----------------------------------------------------------

    def _current_requests(self) -> Requests:
        now = self.clock.monotonic()
        if now - self._requests_read_at >= REQUEST_READ_SECONDS:
            self._requests = self.store.read_requests(self.record.plan)
            self._requests_read_at = now
        return self._requests

    def abort_requested(self) -> bool:
        """Ctrl-C, SIGTERM, or `rollout abort` from elsewhere."""
        return self.interrupted.is_set() or self._current_requests().abort

    def promoted_counter(self) -> Callable[[str], bool]:
        """`promoted(target)`: True once per manual pause that `rollout promote` released."""
        used: dict[str, int] = {}
        lock = threading.Lock()

        def promoted(target: str) -> bool:
            requests = self._current_requests()
            granted = requests.promotions.get(target, 0) + requests.promotions.get("*", 0)
            with lock:
                if granted > used.get(target, 0):
                    used[target] = used.get(target, 0) + 1
                    return True
            return False

        return promoted

    def full_promotion_requested(self) -> bool:
        """`rollout promote --full`."""
        return self._current_requests().promote_full


_STATUSES: dict[str, RolloutStatus] = {
    "succeeded": "succeeded",
    "nothing_to_do": "nothing_to_do",
    "rolled_back": "rolled_back",
    "needs_human": "needs_human",
    "failed_before_traffic": "failed",
    "skipped": "failed",
}


def _status(outcome: str) -> RolloutStatus:
    return _STATUSES.get(outcome, "failed")
