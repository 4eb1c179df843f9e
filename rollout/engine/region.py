"""One region's traffic: publish every target, move their traffic together, watch alarms.

The targets of a region are one application release: when one fails, all of
them go back to the routing recorded before the first change, including those
that already reached 100%.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import Enum

from rollout.engine import events as ev
from rollout.engine.alarm_watch import AlarmPolicy, AlarmWatch
from rollout.engine.inspection import alias_problem
from rollout.engine.outcome import Outcome, RegionResult
from rollout.engine.ports import (
    AlarmReader,
    Clock,
    HookContext,
    HookOutcome,
    HookRunner,
    HookSpec,
    Journal,
    NullJournal,
    PublishedVersion,
    Release,
    TargetSnapshot,
    TargetStatus,
)
from rollout.engine.progress import (
    GuardedJournal,
    TargetProgress,
    TargetRun,
    check_ours,
    last_shift_index,
    read_checked,
    set_routing,
)
from rollout.engine.rollback import Rollback, error_text
from rollout.engine.routing import AliasRouting, AliasState, version_number
from strategies import Bake, Pause, Shift, Step, Validate, with_validation

__all__ = ["RegionRollout", "TargetRun"]

INTERRUPT_CHECK_SECONDS = 0.1


class _Taken(Enum):
    """How far a step got, and whether its passing must be journaled at once."""

    WAITING = "waiting"  # a bake or a pause still under way
    PASSED = "passed"  # rides with the next write: a resume would only take it again
    # A hook passed, or a human released a pause: a resume must not run or wait for it
    # again (it clears requests), so it is durable before a read or a poll can be where
    # the process dies.
    SETTLED = "settled"


class _Stop(Exception):
    """Ends the release with an outcome."""

    def __init__(self, outcome: Outcome, message: str) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.message = message


def _never_promoted(_target: str, _step: int) -> bool:
    return False


def _no_promote_command(_target: str) -> str:
    return ""


@dataclass
class RegionRollout:
    """Runs one region's traffic; it never raises for AWS, hook or journal failures, it reports
    an outcome."""

    region: str
    targets: Sequence[TargetRun]
    alarms: AlarmReader
    clock: Clock
    policy: AlarmPolicy
    emit: ev.EventSink
    hooks: HookRunner
    values: Mapping[str, str] = field(default_factory=dict)  # the region's placeholder values
    replace_split: bool = False  # on_split_alias: replace
    promoted: Callable[[str, int], bool] = _never_promoted  # (target, pause index) released?
    abort_requested: Callable[[], bool] = lambda: False
    abort_reason: Callable[[], str] = lambda: "aborted on request"
    interrupted: Callable[[], bool] = lambda: False  # a signal: cheap to ask, asked often
    full_promotion_requested: Callable[[], bool] = lambda: False
    # target -> the `rollout promote` command line that releases its pause in this region
    promote_command: Callable[[str], str] = _no_promote_command
    journal: Journal = field(default_factory=NullJournal)
    rollback_deadline_seconds: float = 300.0
    description: str = "rollout"
    _alarm_watch: AlarmWatch | None = None
    _serving: dict[str, AliasRouting] = field(default_factory=dict)
    _known: dict[str, str] = field(default_factory=dict)  # placeholder values, as targets publish
    _created: list[str] = field(default_factory=list)  # aliases this rollout created
    _guarded: GuardedJournal | None = None

    @property
    def _journal(self) -> GuardedJournal:
        if self._guarded is None:
            self._guarded = GuardedJournal(self.journal, self.region)
        return self._guarded

    def run(self) -> RegionResult:
        """Publish, shift and watch; roll back on failure."""
        return self._release({})

    def resume(self, snapshots: Mapping[str, TargetSnapshot]) -> RegionResult:
        """Carry on from recorded progress: reuse what was published, check nothing drifted,
        take the remaining steps; finish a rollback that was under way."""
        return self._release(snapshots)

    def roll_back(self, snapshots: Mapping[str, TargetSnapshot], reason: str) -> RegionResult:
        """Put every recorded target back on its routing from before the rollout."""
        progress = [
            TargetProgress.restored(target, snapshot)
            for target in self.targets
            if (snapshot := snapshots.get(target.name)) is not None
            and snapshot.status.restorable
            and snapshot.initial is not None
        ]
        self._created += [n for n, snap in snapshots.items() if snap.status is TargetStatus.CREATED]
        outcome, message = self._roll_back(progress, reason)
        return self._finish(outcome, message, {}, progress)

    # -- the release ----------------------------------------------------------------------

    def _release(self, snapshots: Mapping[str, TargetSnapshot]) -> RegionResult:
        published: dict[str, PublishedVersion] = {}
        # What an earlier process moved is known before any call: whatever fails from
        # here on (a package gone, AWS refusing), those targets go back.
        progress = self._recorded_progress(snapshots)
        try:
            for target in self.targets:
                if not _reusable(snapshots.get(target.name)):
                    target.adapter.check_inputs()
            if not snapshots:
                # When resuming, traffic may have moved: an alarm then means rolling back,
                # which the shifting loop's first look at the alarms takes care of.
                self._check_alarms_before_start()
            self._publish_all(published, progress, snapshots)
            put_back = [item.run.name for item in progress if self._found_put_back(item)]
        except _Stop as stop:
            return self._stop(stop, progress, published)
        except Exception as exc:
            return self._failed(progress, published, exc)
        if put_back:
            reason = f"finishing a rollback: {', '.join(put_back)} found back where it began"
            return self._finish(*self._roll_back(progress, reason), published, progress)
        if any(snapshot.status.backing_out for snapshot in snapshots.values()):
            return self._finish(
                *self._roll_back(progress, "finishing a rollback"), published, progress
            )
        if not progress:
            outcome = Outcome.SUCCEEDED if published else Outcome.NOTHING_TO_DO
            return self._finish(outcome, _nothing_message(outcome), published, progress)
        return self._move(progress, published)

    def _found_put_back(self, item: TargetProgress) -> bool:
        """Check a resumed target's alias; True when it is back on its first routing although
        the record says rollout had moved it: an earlier process rolled back without being able
        to record it (its state store was gone), so the release must not carry on."""
        if not (item.moved or item.index):
            return False
        current = item.run.adapter.read_alias()
        moved_before = not item.last.routing.same_as(item.initial.routing)
        if moved_before and current is not None and current.routing.same_as(item.initial.routing):
            item.last, item.pending = current, None
            return True
        check_ours(item, current, self.region, self.emit)
        return False

    def _move(
        self, progress: list[TargetProgress], published: dict[str, PublishedVersion]
    ) -> RegionResult:
        try:
            self._shift(progress)
        except _Stop as stop:
            return self._stop(stop, progress, published)
        except Exception as exc:  # whatever broke, traffic may have moved: put it back
            return self._failed(progress, published, exc)
        return self._finish(Outcome.SUCCEEDED, "released", published, progress)

    def _stop(
        self,
        stop: _Stop,
        progress: list[TargetProgress],
        published: dict[str, PublishedVersion],
    ) -> RegionResult:
        if stop.outcome is Outcome.FAILED_BEFORE_TRAFFIC and not any(i.moved for i in progress):
            return self._finish(stop.outcome, stop.message, published, progress)
        # Even at 0%, the decision is journaled, so that nothing resumes this release.
        return self._finish(*self._roll_back(progress, stop.message), published, progress)

    def _failed(
        self,
        progress: list[TargetProgress],
        published: dict[str, PublishedVersion],
        exc: Exception,
    ) -> RegionResult:
        reason = error_text(exc)
        if any(item.moved or item.drifted for item in progress):
            return self._finish(*self._roll_back(progress, reason), published, progress)
        return self._finish(Outcome.FAILED_BEFORE_TRAFFIC, reason, published, progress)

    def _roll_back(self, progress: Sequence[TargetProgress], reason: str) -> tuple[Outcome, str]:
        rollback = Rollback(
            self.region, self.clock, self.emit, self._journal, self.rollback_deadline_seconds
        )
        outcome, message = rollback.run(progress, reason)
        if self._created:
            # There was no routing before a first deploy: removing the alias could break
            # whoever started using it, so it stays.
            kept = ", ".join(self._created)
            message += f"; the alias rollout created for {kept} was kept (it had no routing before)"
        return outcome, message

    def _finish(
        self,
        outcome: Outcome,
        message: str,
        published: dict[str, PublishedVersion],
        progress: Sequence[TargetProgress],
    ) -> RegionResult:
        self._journal.record_all_quietly({})  # what is held, if the store still answers
        serving = {name: routing.describe() for name, routing in self._serving.items()}
        serving.update({item.run.name: item.serving for item in progress})
        return RegionResult(self.region, outcome, message, dict(published), serving)

    # -- before any change -------------------------------------------------------------

    @property
    def _watch(self) -> AlarmWatch:
        if self._alarm_watch is None:
            names = sorted({name for target in self.targets for name in target.alarms})
            self._alarm_watch = AlarmWatch(
                self.region, names, self.alarms, self.policy, self.clock, self.emit
            )
        return self._alarm_watch

    def _check_alarms_before_start(self) -> None:
        problem = self._watch.problem_before_start()
        if problem:
            raise _Stop(Outcome.FAILED_BEFORE_TRAFFIC, problem)

    def _publish_all(
        self,
        published: dict[str, PublishedVersion],
        progress: list[TargetProgress],
        snapshots: Mapping[str, TargetSnapshot],
    ) -> None:
        values = self._known
        values.update({**self.values, "region": self.region})
        # Code updates are all sent before the first is waited for: Lambda applies them
        # together, so publishing N functions takes about one update's time, not N.
        started: list[tuple[TargetRun, Release]] = []
        for target in self.targets:
            snapshot = snapshots.get(target.name)
            if snapshot is not None and _reusable(snapshot):
                self._reuse(target, snapshot, values, published)
                continue
            if target.adapter.reads_published_versions:
                self._publish_started(started, values, published, progress)
            release = self._prepare_one(target, values, progress)
            if release is not None:
                target.adapter.begin_publish(release)
                started.append((target, release))
        self._publish_started(started, values, published, progress)
        order = [target.name for target in self.targets]
        progress.sort(key=lambda item: order.index(item.run.name))

    def _publish_started(
        self,
        started: list[tuple[TargetRun, Release]],
        values: dict[str, str],
        published: dict[str, PublishedVersion],
        progress: list[TargetProgress],
    ) -> None:
        """Finish publishing what was started, in the plan's order; empties `started`."""
        while started:
            target, release = started.pop(0)
            item = self._publish_one(target, release, values, published)
            if item is not None:
                progress.append(item)

    def _recorded_progress(self, snapshots: Mapping[str, TargetSnapshot]) -> list[TargetProgress]:
        """The targets an earlier process published a version for, as it recorded them.

        Those that already reached 100% are among them: if the region fails from here
        on, they go back with the others."""
        return [
            TargetProgress.restored(self._with_validation(target), snapshot)
            for target in self.targets
            if (snapshot := snapshots.get(target.name)) is not None
            and snapshot.new_version is not None
            and snapshot.initial is not None
            and snapshot.last is not None
        ]

    def _reuse(
        self,
        target: TargetRun,
        snapshot: TargetSnapshot,
        values: dict[str, str],
        published: dict[str, PublishedVersion],
    ) -> None:
        """A target an earlier process got to: nothing is published again."""
        if snapshot.new_version is None:  # it had nothing to publish
            served = snapshot.last.base if snapshot.last else ""
            if snapshot.last is not None:
                self._serving[target.name] = snapshot.last
            _remember(
                values, target.name, PublishedVersion(served, target.adapter.version_arn(served))
            )
            return
        new = PublishedVersion(snapshot.new_version, snapshot.new_version_arn or "")
        published[target.name] = new
        _remember(values, target.name, new)
        if snapshot.status is TargetStatus.CREATING and target.adapter.read_alias() is None:
            self._create_alias(target, new)

    def _prepare_one(
        self, target: TargetRun, values: dict[str, str], progress: list[TargetProgress]
    ) -> Release | None:
        """Decide what releasing `target` takes; None when nothing is to be published."""
        adapter = target.adapter
        release = adapter.prepare(values)
        alias = release.alias
        problem = alias_problem(target.name, alias, self.replace_split)
        if problem:
            raise _Stop(Outcome.FAILED_BEFORE_TRAFFIC, problem)
        split = alias is not None and len(alias.routing.shares()) > 1
        if not release.changed and alias is not None and split and self.replace_split:
            progress.append(self._finish_split(target, alias, release.summary))
            return None
        if not release.changed and alias is not None:
            unchanged = TargetSnapshot(
                TargetStatus.UNCHANGED, alias.arn, alias.routing, alias.routing
            )
            self._journal.record(target.name, unchanged)
            self._serving[target.name] = alias.routing
            self.emit(
                ev.NothingToPublish(region=self.region, target=target.name, summary=release.summary)
            )
            served = alias.routing.base
            _remember(values, target.name, PublishedVersion(served, adapter.version_arn(served)))
            return None
        return release

    def _publish_one(
        self,
        target: TargetRun,
        release: Release,
        values: dict[str, str],
        published: dict[str, PublishedVersion],
    ) -> TargetProgress | None:
        alias = release.alias
        new = target.adapter.publish(release, values, self.description)
        published[target.name] = new
        _remember(values, target.name, new)
        item = None
        if alias is None:
            creating = TargetSnapshot(
                TargetStatus.CREATING, new_version=new.version, new_version_arn=new.arn
            )
            self._journal.record(target.name, creating)
        else:
            item = TargetProgress(
                self._with_validation(target), alias, alias, alias.routing.base, new
            )
            self._record(item, TargetStatus.PUBLISHED)  # the version and the routing to restore
        self.emit(
            ev.VersionPublished(
                region=self.region,
                target=target.name,
                version=version_number(new.version),
                arn=new.arn,
                summary=release.summary,
                previous=None if alias is None else version_number(alias.routing.base),
            )
        )
        if alias is None:
            self._create_alias(target, new)
        return item

    def _finish_split(self, target: TargetRun, alias: AliasState, summary: str) -> TargetProgress:
        """The larger version of a split alias already serves this release (and the plan says
        `on_split_alias: replace`): move the rest of the traffic to it, from its share on."""
        base = alias.routing.base
        other = next(version for version in alias.routing.shares() if version != base)
        new = PublishedVersion(base, target.adapter.version_arn(base))
        item = TargetProgress(self._with_validation(target), alias, alias, other, new)
        share = alias.routing.weight_of(base)
        # Steps below the share it already has would move traffic back to the smaller one.
        item.index = next(
            (
                i
                for i, step in enumerate(item.run.steps)
                if isinstance(step, Shift) and step.weight > share
            ),
            last_shift_index(item.run.steps),
        )
        self._record(item, TargetStatus.PUBLISHED)
        self.emit(
            ev.NothingToPublish(
                region=self.region,
                target=target.name,
                summary=f"{summary}; moving the rest of the split alias to it",
            )
        )
        return item

    def _create_alias(self, target: TargetRun, new: PublishedVersion) -> None:
        created = target.adapter.create_alias(new.version)
        snapshot = TargetSnapshot(
            TargetStatus.CREATED,
            created.arn,
            None,
            created.routing,
            None,
            None,
            new.version,
            new.arn,
        )
        self._journal.record(target.name, snapshot)
        self._serving[target.name] = created.routing
        self._created.append(target.name)
        self.emit(
            ev.AliasCreated(
                region=self.region,
                target=target.name,
                version=version_number(new.version),
                arn=created.arn,
            )
        )

    def _with_validation(self, target: TargetRun) -> TargetRun:
        """A before_traffic hook runs while the new version has 0%, whatever the strategy."""
        steps = target.steps if target.before_traffic is None else with_validation(target.steps)
        return target if steps == target.steps else replace(target, steps=steps)

    def _record(self, item: TargetProgress, status: TargetStatus = TargetStatus.SHIFTING) -> None:
        self._journal.record(item.run.name, item.snapshot(status))

    def _hold(self, item: TargetProgress, status: TargetStatus = TargetStatus.SHIFTING) -> None:
        """Journal `item` with the next write: it only says how far a target got, which a
        resume works out again from the write before (the alias write it names as pending)."""
        self._journal.hold(item.run.name, item.snapshot(status))

    # -- moving traffic ---------------------------------------------------------------------

    def _shift(self, progress: list[TargetProgress]) -> None:
        while not all(p.done for p in progress):
            if self.abort_requested():
                raise _Stop(Outcome.ROLLED_BACK, self.abort_reason())
            self._poll_alarms()
            for item in progress:
                # Shifting many targets at AWS's pace takes a while: keep watching meanwhile.
                if self._watch.due():
                    self._poll_alarms()
                self._advance(item)
            if all(p.done for p in progress):
                break  # the last write or bake is behind: nothing is left to wait for
            self._journal.flush()  # the tick's progress, in one write before the wait
            self._wait(self._seconds_to_next_wake(progress))
        self._journal.flush()
        if self._watch.due():
            # Alarms were read at the top of this tick, just before the last change; a
            # second read at the same instant cannot say anything new.
            self._poll_alarms()
        for item in progress:
            # A finished target never writes again, so only a last read can see it drifted.
            read_checked(item, self.region, self.emit)

    def _wait(self, seconds: float) -> None:
        """Sleep until something is due; a signal cuts it short, as a cancelled CI job
        leaves seconds, not a poll interval, before it kills the process."""
        deadline = self.clock.monotonic() + seconds
        while not self.interrupted():
            left = deadline - self.clock.monotonic()
            if left <= 0:
                return
            self.clock.sleep(min(left, INTERRUPT_CHECK_SECONDS))

    def _seconds_to_next_wake(self, progress: list[TargetProgress]) -> float:
        now = self.clock.monotonic()
        wake = now + self.policy.poll_seconds
        for item in progress:
            if item.bake_until is not None:
                wake = min(wake, item.bake_until)
            elif not item.done and not item.paused:
                wake = now
        return max(0.0, wake - now)

    def _poll_alarms(self) -> None:
        problem = self._watch.problem_now()
        if problem:
            raise _Stop(Outcome.ROLLED_BACK, problem)

    def _advance(self, item: TargetProgress) -> None:
        if self.full_promotion_requested():
            self._skip_to_full(item)
        while not item.done:
            taken = self._take(item, item.run.steps[item.index])
            if taken is _Taken.WAITING:
                return
            item.index += 1
            if item.done and not item.serves_new:
                # Resumed with other steps than it began with (--force): the release ends
                # with the alias serving the new version, never at a split it happened to reach.
                item.index = last_shift_index(item.run.steps)
            status = TargetStatus.DONE if item.done else TargetStatus.SHIFTING
            if taken is _Taken.SETTLED:
                self._record(item, status)
            else:
                self._hold(item, status)

    def _skip_to_full(self, item: TargetProgress) -> None:
        """`promote --full`: straight to the move to 100%, no more bakes or pauses."""
        last_shift = last_shift_index(item.run.steps)
        if item.index <= last_shift:
            item.index, item.bake_until, item.paused = last_shift, None, False
            item.bake_ends_at = None
            item.notified = False
            item.run = replace(item.run, steps=item.run.steps[: last_shift + 1])

    def _take(self, item: TargetProgress, step: Step) -> _Taken:
        """Carry out `step`, or go on with it."""
        if isinstance(step, Bake):
            return _Taken.PASSED if self._bake(item, step) else _Taken.WAITING
        if isinstance(step, Pause):
            return _Taken.SETTLED if self._pause(item) else _Taken.WAITING
        if isinstance(step, Validate):
            ran = self._run_hook(item, item.run.before_traffic, "before_traffic")
            return _Taken.SETTLED if ran else _Taken.PASSED
        self._set_weight(item, step.weight)
        if step.weight >= 100 and self._run_hook(item, item.run.after_traffic, "after_traffic"):
            return _Taken.SETTLED
        return _Taken.PASSED

    def _bake(self, item: TargetProgress, step: Bake) -> bool:
        now = self.clock.monotonic()
        if item.bake_until is None:
            item.bake_until = now + step.duration.total_seconds()
            item.bake_ends_at = self.clock.now() + step.duration
            # Recorded so that `rollout status` elsewhere can say how long the bake has left,
            # with the tick's next write.
            self._hold(item)
            self.emit(
                ev.BakeStarted(
                    region=self.region,
                    target=item.run.name,
                    seconds=step.duration.total_seconds(),
                    final=item.index > last_shift_index(item.run.steps),
                )
            )
        if now < item.bake_until:
            return False
        item.bake_until, item.bake_ends_at = None, None
        return True

    def _pause(self, item: TargetProgress) -> bool:
        if not item.paused:
            item.paused = True
            # Recorded so that `rollout promote` releases this pause and no later one.
            self._record(item)
            command = self.promote_command(item.run.name)
            self.emit(
                ev.PauseStarted(region=self.region, target=item.run.name, promote_command=command)
            )
            if not item.notified:
                self._notify(item, command)
        if not self.promoted(item.run.name, item.index):
            return False
        item.paused, item.notified = False, False
        return True

    def _notify(self, item: TargetProgress, command: str) -> None:
        """Run the on_pause hook once per pause; its failure is a warning, never a rollback:
        a notification that did not get through leaves the release as safe as it was."""
        hook = item.run.on_pause
        if hook is None:
            return
        self._hook_outcome(item, hook, "on_pause", command)
        # Recorded after it ran: a process killed meanwhile tells the human again on resume.
        item.notified = True
        self._record(item)

    def _set_weight(self, item: TargetProgress, weight: Decimal) -> None:
        routing = AliasRouting.towards(item.old, item.new.version, weight)
        set_routing(item, routing, self.region, self.emit, lambda: self._record(item))
        self._hold(item)
        self.emit(
            ev.WeightShifted(
                region=self.region,
                target=item.run.name,
                weight=float(weight),
                routing=ev.shares(routing),
                step=_shift_number(item.run.steps, item.index),
                steps=sum(isinstance(s, Shift) for s in item.run.steps),
            )
        )

    def _run_hook(self, item: TargetProgress, hook: HookSpec | None, phase: str) -> bool:
        """Run `hook` if there is one (whether it ran); a failure stops the release."""
        if hook is None:
            return False
        outcome = self._hook_outcome(item, hook, phase)
        if not outcome.passed and self.abort_requested():
            # Cut short by the stop itself (a signal, `rollout abort`, a failed peer): its
            # reason is why the region goes back, not the hook.
            raise _Stop(Outcome.ROLLED_BACK, f"{self.abort_reason()} (during {phase} hook)")
        if not outcome.passed:
            raise _Stop(
                Outcome.ROLLED_BACK, f"{item.run.name}: {phase} hook failed: {outcome.detail}"
            )
        return True

    def _hook_outcome(
        self, item: TargetProgress, hook: HookSpec, phase: str, promote_command: str = ""
    ) -> HookOutcome:
        """Run `hook`, with an event as it starts and one with how it ended."""
        described = hook.describe()
        target = item.run.name
        # A hook may take minutes: where every target got to is durable before it starts.
        self._journal.flush()
        self.emit(ev.HookStarted(region=self.region, target=target, phase=phase, hook=described))
        outcome = self.hooks.run(hook, self._hook_context(item, phase, promote_command))
        self.emit(
            ev.HookFinished(
                region=self.region,
                target=target,
                phase=phase,
                hook=described,
                passed=outcome.passed,
                detail=outcome.detail,
            )
        )
        return outcome

    def _hook_context(
        self, item: TargetProgress, phase: str, promote_command: str = ""
    ) -> HookContext:
        return HookContext(
            region=self.region,
            target=item.run.name,
            phase=phase,
            alias_arn=item.initial.arn,
            new_version=item.new.version,
            new_version_arn=item.new.arn,
            old_version=item.old,
            values=dict(self._known),
            promote_command=promote_command,
        )


def _shift_number(steps: Sequence[Step], index: int) -> int:
    """`2` for the second shift of a target's steps: what a person counts, not an index."""
    return sum(isinstance(step, Shift) for step in steps[: index + 1])


def _reusable(snapshot: TargetSnapshot | None) -> bool:
    """Whether an earlier process already published (or found nothing to publish) for it."""
    return snapshot is not None and (
        snapshot.new_version is not None or snapshot.status is TargetStatus.UNCHANGED
    )


def _remember(values: dict[str, str], target: str, version: PublishedVersion) -> None:
    values[f"targets.{target}.version"] = version.version.rsplit(":", 1)[-1]
    values[f"targets.{target}.version_arn"] = version.arn


def _nothing_message(outcome: Outcome) -> str:
    if outcome is Outcome.NOTHING_TO_DO:
        return "nothing to do: every alias already serves this release"
    return "released (new aliases created, no traffic to shift)"
