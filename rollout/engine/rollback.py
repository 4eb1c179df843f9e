"""The one way an alias goes back: after an alarm, a failed hook, a signal, `abort`, drift in a
sibling target, `resume` meeting a failure, or the `rollback` command.

Every alias of the region is re-read, checked for drift, put back on the
routing recorded before the rollout with retries and backoff, and journaled;
the progress in memory is enough when the state store has stopped answering.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rollout.engine import events as ev
from rollout.engine.outcome import Outcome
from rollout.engine.ports import (
    AliasConflictError,
    Clock,
    JournalError,
    PermanentTargetError,
    TargetError,
    TargetStatus,
)
from rollout.engine.progress import (
    DriftError,
    GuardedJournal,
    TargetProgress,
    check_ours,
    writable_unread,
)

INITIAL_DELAY = 0.5
MAX_DELAY = 30.0


@dataclass
class Rollback:
    """Restores a region's aliases to their recorded routing."""

    region: str
    clock: Clock
    emit: ev.EventSink
    journal: GuardedJournal
    deadline_seconds: float = 300.0

    def run(self, progress: Sequence[TargetProgress], reason: str) -> tuple[Outcome, str]:
        """Put every target back except those found drifted; the outcome and why."""
        movable = [item for item in progress if not item.drifted]
        left = [item.run.name for item in progress if item.drifted]
        failures = self._restore_all(movable, reason) if movable else []
        problems = []
        if failures:
            problems.append(f"rollback incomplete: {'; '.join(failures)}")
        if left:
            problems.append(f"left as found after drift: {', '.join(left)}")
        lost = self.journal.lost
        if lost is not None:
            store = "" if lost in reason else f"the state store failed ({lost}); "
            problems.append(f"{store}restored from memory, so the state record is stale")
        if problems:
            return Outcome.NEEDS_HUMAN, f"{reason}; {'; '.join(problems)}"
        return Outcome.ROLLED_BACK, f"{reason}; rolled back to the recorded routing"

    def _restore_all(self, movable: Sequence[TargetProgress], reason: str) -> list[str]:
        """Restore each target; what could not be, with what remains to restore."""
        # Decided: recorded for every target in one write first, so a process that dies from
        # here on leaves a rollback for `resume` to finish, never a release to carry on with.
        self.journal.record_all_quietly(
            {item.run.name: item.snapshot(TargetStatus.ROLLING_BACK) for item in movable}
        )
        self.emit(ev.RollbackStarted(region=self.region, reason=reason))
        failures = [
            f"{item.run.name}: {failure} (still to restore: "
            f"{item.initial.routing.describe()} on {item.initial.arn})"
            for item in movable
            if (failure := self._restore(item)) is not None
        ]
        # Where each alias ended, in one write. Until it lands the record says "rolling back",
        # which a later process finishes by reading each alias: one already back on its
        # recorded routing is not written again.
        self.journal.record_all_quietly(
            {
                item.run.name: item.snapshot(
                    TargetStatus.ROLLING_BACK if item.moved else TargetStatus.ROLLED_BACK
                )
                for item in movable
            }
        )
        return failures

    def _restore(self, item: TargetProgress) -> str | None:
        """Put one alias back; None when it is back, else why not."""
        if not item.moved:
            return None
        failure = self._restore_with_retries(item)
        if failure is None:
            self.emit(
                ev.AliasRestored(
                    region=self.region,
                    target=item.run.name,
                    routing=ev.shares(item.initial.routing),
                )
            )
        else:
            self.emit(ev.RollbackFailed(region=self.region, target=item.run.name, error=failure))
        return failure

    def _restore_with_retries(self, item: TargetProgress) -> str | None:
        """Retry AWS errors with backoff until the deadline; the last error, or None."""
        deadline = self.clock.monotonic() + self.deadline_seconds
        delay = INITIAL_DELAY
        while True:
            try:
                if not self._restored_unread(item):
                    self._restore_read(item)
                return None
            except DriftError as drift:  # someone else owns the alias now
                return str(drift)
            except PermanentTargetError as exc:  # retrying cannot fix credentials
                return error_text(exc)
            except Exception as exc:
                if self.clock.monotonic() + delay > deadline:
                    return error_text(exc)
            # botocore already retried this call; back off before trying the whole write again.
            self.clock.sleep(delay)
            delay = min(delay * 2, MAX_DELAY)

    def _restored_unread(self, item: TargetProgress) -> bool:
        """Put a revision-guarded alias back without reading it first; False when that cannot
        be done (no revision known, an answer in doubt) or AWS refused the revision."""
        if not writable_unread(item):
            return False
        item.pending = item.initial.routing
        try:
            item.last = item.run.adapter.update_alias(item.initial.routing, item.last)
        except AliasConflictError:  # someone wrote since: the read tells back, drift or ours
            return False
        item.pending = None
        return True

    def _restore_read(self, item: TargetProgress) -> None:
        """Read the alias, then put it back unless it already is; DriftError if not ours."""
        current = item.run.adapter.read_alias()
        if current is not None and current.routing.same_as(item.initial.routing):
            # Already back (a lost answer, or a process that restored it from
            # memory when the state store was gone): nothing to write.
            item.last, item.pending = current, None
            return
        current = check_ours(item, current, self.region, self.emit)
        # Not journaled as pending: a later process that finds the alias already on its
        # recorded routing counts it as back, whether or not this answer arrived.
        item.pending = item.initial.routing
        item.last = item.run.adapter.update_alias(item.initial.routing, current)
        item.pending = None


def error_text(exc: BaseException) -> str:
    """An error as the user reads it: AWS errors as they are, anything else named."""
    if isinstance(exc, PermanentTargetError) and exc.hint:
        return f"{exc} ({exc.hint})"
    if isinstance(exc, TargetError | JournalError | DriftError):
        return str(exc)
    return f"unexpected {type(exc).__name__}: {exc}"
