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
    Clock,
    JournalError,
    PermanentTargetError,
    TargetError,
    TargetStatus,
)
from rollout.engine.progress import DriftError, GuardedJournal, TargetProgress, check_ours

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
        # Decided: recorded for every target first, so a process that dies from here on
        # leaves a rollback for `resume` to finish, never a release to carry on with.
        for item in movable:
            self.journal.record_quietly(item.run.name, item.snapshot(TargetStatus.ROLLING_BACK))
        self.emit(ev.RollbackStarted(region=self.region, reason=reason))
        return [
            f"{item.run.name}: {failure} (still to restore: "
            f"{item.initial.routing.describe()} on {item.initial.arn})"
            for item in movable
            if (failure := self._restore(item)) is not None
        ]

    def _restore(self, item: TargetProgress) -> str | None:
        """Put one alias back; None when it is back, else why not."""
        if not item.moved:
            self.journal.record_quietly(item.run.name, item.snapshot(TargetStatus.ROLLED_BACK))
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
                current = item.run.adapter.read_alias()
                if current is not None and current.routing.same_as(item.initial.routing):
                    # Already back (a lost answer, or a process that restored it from
                    # memory when the state store was gone): nothing to write.
                    item.last, item.pending = current, None
                else:
                    current = check_ours(item, current, self.region, self.emit)
                    item.pending = item.initial.routing
                    self.journal.record_quietly(
                        item.run.name, item.snapshot(TargetStatus.ROLLING_BACK)
                    )
                    item.last = item.run.adapter.update_alias(item.initial.routing, current)
                    item.pending = None
                self.journal.record_quietly(item.run.name, item.snapshot(TargetStatus.ROLLED_BACK))
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


def error_text(exc: BaseException) -> str:
    """An error as the user reads it: AWS errors as they are, anything else named."""
    if isinstance(exc, PermanentTargetError) and exc.hint:
        return f"{exc} ({exc.hint})"
    if isinstance(exc, TargetError | JournalError | DriftError):
        return str(exc)
    return f"unexpected {type(exc).__name__}: {exc}"
