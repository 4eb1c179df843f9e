"""One region's release: publish every target, move their traffic together, watch alarms.

The targets of a region are one application release: when one fails, all of
them go back to the routing recorded before the first change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from rollout.engine import events as ev
from rollout.engine.alarm_watch import AlarmPolicy, AlarmWatch
from rollout.engine.outcome import Outcome, RegionResult
from rollout.engine.ports import (
    AlarmReader,
    Clock,
    HookContext,
    HookRunner,
    Journal,
    NullJournal,
    PublishedVersion,
    TargetAdapter,
    TargetError,
    TargetSnapshot,
)
from rollout.engine.routing import AliasRouting, AliasState
from rollout.plan.model import Hook
from strategies import Bake, Pause, Shift, Step, Validate


@dataclass(frozen=True)
class TargetRun:
    """One target as the engine sees it: an adapter, steps, rendered alarm names and hooks."""

    name: str
    adapter: TargetAdapter
    steps: tuple[Step, ...]
    alarms: tuple[str, ...] = ()
    before_traffic: Hook | None = None
    after_traffic: Hook | None = None


_UNFINISHED = ("published", "shifting", "rolling_back")
_BACKING_OUT = ("rolling_back", "rolled_back")


class _Stop(Exception):
    """Ends the shifting loop with an outcome."""

    def __init__(self, outcome: Outcome, message: str) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.message = message


@dataclass
class _Progress:
    """Where one target is in its steps."""

    run: TargetRun
    initial: AliasState
    last: AliasState
    old: str
    new: PublishedVersion
    index: int = 0
    bake_until: float | None = None
    paused: bool = False
    pending: AliasRouting | None = None

    @property
    def done(self) -> bool:
        return self.index >= len(self.run.steps)

    @classmethod
    def restored(cls, run: TargetRun, snapshot: TargetSnapshot) -> _Progress:
        """Progress as a journal recorded it."""
        assert snapshot.initial is not None and snapshot.last is not None
        assert snapshot.new_version is not None and snapshot.old_version is not None
        arn = snapshot.alias_arn
        return cls(
            run,
            AliasState(arn, snapshot.initial),
            AliasState(arn, snapshot.last),
            snapshot.old_version,
            PublishedVersion(snapshot.new_version, snapshot.new_version_arn or ""),
            index=snapshot.step,
            pending=snapshot.pending,
        )

    def snapshot(self, status: str) -> TargetSnapshot:
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
        )


@dataclass
class RegionRollout:
    """Runs one region; `run()` never raises for AWS or hook failures, it reports an outcome."""

    region: str
    targets: Sequence[TargetRun]
    alarms: AlarmReader
    clock: Clock
    policy: AlarmPolicy
    emit: ev.EventSink
    hooks: HookRunner
    promoted: Callable[[str], bool] = lambda _target: False
    abort_requested: Callable[[], bool] = lambda: False
    full_promotion_requested: Callable[[], bool] = lambda: False
    journal: Journal = field(default_factory=NullJournal)
    rollback_deadline_seconds: float = 300.0
    description: str = "rollout"
    _alarm_watch: AlarmWatch | None = None

    def _event(self, event: ev.Event) -> None:
        self.emit(event)

    def _record(self, item: _Progress, status: str = "shifting") -> None:
        self.journal.target(self.region, item.run.name, item.snapshot(status))

    def run(self) -> RegionResult:
        """Publish, shift and watch; roll back on failure."""
        return self._release({})

    def resume(self, snapshots: Mapping[str, TargetSnapshot]) -> RegionResult:
        """Carry on from recorded progress: reuse what was published, check nothing drifted,
        take the remaining steps; finish a rollback that was under way."""
        return self._release(snapshots)

    def _release(self, snapshots: Mapping[str, TargetSnapshot]) -> RegionResult:
        self._event(ev.RegionStarted(region=self.region))
        published: dict[str, PublishedVersion] = {}
        progress: list[_Progress] = []
        try:
            for target in self.targets:
                target.adapter.check_inputs()
            if not snapshots:
                # When resuming, traffic may have moved: an alarm then means rolling back,
                # which the shifting loop's first look at the alarms takes care of.
                self._check_alarms_before_start()
            self._publish_all(published, progress, snapshots)
            for item in progress:
                if (
                    item.index
                    or item.pending
                    or not item.last.routing.same_as(item.initial.routing)
                ):
                    self._read_checked(item)
        except _Stop as stop:
            return self._finish(stop.outcome, stop.message, published)
        except Exception as exc:
            if any(not p.last.routing.same_as(p.initial.routing) for p in progress):
                return self._finish(*self._roll_back(progress, _error_text(exc)), published)
            return self._finish(Outcome.FAILED_BEFORE_TRAFFIC, _error_text(exc), published)
        if any(snapshot.status in _BACKING_OUT for snapshot in snapshots.values()):
            return self._finish(*self._roll_back(progress, "finishing a rollback"), published)
        if not progress:
            outcome = Outcome.SUCCEEDED if published else Outcome.NOTHING_TO_DO
            return self._finish(outcome, _nothing_message(outcome), published)
        return self._move(progress, published)

    def _move(
        self, progress: list[_Progress], published: dict[str, PublishedVersion]
    ) -> RegionResult:
        try:
            self._shift(progress)
        except _Stop as stop:
            if stop.outcome is Outcome.NEEDS_HUMAN:
                return self._finish(stop.outcome, stop.message, published)
            return self._finish(*self._roll_back(progress, stop.message), published)
        except Exception as exc:  # whatever broke, traffic has moved: put it back
            return self._finish(*self._roll_back(progress, _error_text(exc)), published)
        return self._finish(Outcome.SUCCEEDED, "released", published)

    def _finish(
        self, outcome: Outcome, message: str, published: dict[str, PublishedVersion]
    ) -> RegionResult:
        self.journal.region_finished(self.region, outcome.value, message)
        self._event(ev.RegionFinished(region=self.region, outcome=outcome.value, message=message))
        return RegionResult(self.region, outcome, message, dict(published))

    # -- before any change -------------------------------------------------------------

    @property
    def _watch(self) -> AlarmWatch:
        if self._alarm_watch is None:
            names = sorted({name for target in self.targets for name in target.alarms})
            self._alarm_watch = AlarmWatch(
                self.region, names, self.alarms, self.policy, self.clock, self._event
            )
        return self._alarm_watch

    def _check_alarms_before_start(self) -> None:
        problem = self._watch.problem_before_start()
        if problem:
            raise _Stop(Outcome.FAILED_BEFORE_TRAFFIC, problem)

    def _publish_all(
        self,
        published: dict[str, PublishedVersion],
        progress: list[_Progress],
        snapshots: Mapping[str, TargetSnapshot],
    ) -> None:
        values: dict[str, str] = {"region": self.region}
        for target in self.targets:
            snapshot = snapshots.get(target.name)
            if snapshot is not None and (snapshot.new_version or snapshot.status == "unchanged"):
                item = self._reuse(target, snapshot, values, published)
            else:
                item = self._publish_one(target, values, published)
            if item is not None:
                progress.append(item)

    def _reuse(
        self,
        target: TargetRun,
        snapshot: TargetSnapshot,
        values: dict[str, str],
        published: dict[str, PublishedVersion],
    ) -> _Progress | None:
        """A target an earlier process got to: nothing is published again."""
        if snapshot.new_version is None:  # it had nothing to publish
            served = snapshot.last.version if snapshot.last else ""
            _remember(
                values, target.name, PublishedVersion(served, target.adapter.version_arn(served))
            )
            return None
        new = PublishedVersion(snapshot.new_version, snapshot.new_version_arn or "")
        published[target.name] = new
        _remember(values, target.name, new)
        if snapshot.status == "creating" and target.adapter.read_alias() is None:
            self._create_alias(target, new)
        if snapshot.status in _UNFINISHED:
            return _Progress.restored(self._with_validation(target), snapshot)
        return None

    def _publish_one(
        self, target: TargetRun, values: dict[str, str], published: dict[str, PublishedVersion]
    ) -> _Progress | None:
        adapter = target.adapter
        release = adapter.prepare(values)
        alias = release.alias
        if not release.changed and alias is not None:
            unchanged = TargetSnapshot("unchanged", alias.arn, alias.routing, alias.routing)
            self.journal.target(self.region, target.name, unchanged)
            self._event(
                ev.NothingToPublish(region=self.region, target=target.name, summary=release.summary)
            )
            served = alias.routing.version
            _remember(values, target.name, PublishedVersion(served, adapter.version_arn(served)))
            return None
        new = adapter.publish(release, values, self.description)
        published[target.name] = new
        _remember(values, target.name, new)
        item = None
        if alias is None:
            creating = TargetSnapshot("creating", new_version=new.version, new_version_arn=new.arn)
            self.journal.target(self.region, target.name, creating)
        else:
            item = _Progress(
                self._with_validation(target), alias, alias, alias.routing.version, new
            )
            self._record(item, "published")  # the version and the routing to restore
        self._event(
            ev.VersionPublished(
                region=self.region,
                target=target.name,
                version=new.version,
                arn=new.arn,
                summary=release.summary,
            )
        )
        if alias is None:
            self._create_alias(target, new)
        return item

    def _create_alias(self, target: TargetRun, new: PublishedVersion) -> None:
        created = target.adapter.create_alias(new.version)
        snapshot = TargetSnapshot(
            "created", created.arn, None, created.routing, None, None, new.version, new.arn
        )
        self.journal.target(self.region, target.name, snapshot)
        self._event(
            ev.AliasCreated(
                region=self.region, target=target.name, version=new.version, arn=created.arn
            )
        )

    def _with_validation(self, target: TargetRun) -> TargetRun:
        """A before_traffic hook runs while the new version has 0%, whatever the strategy."""
        if target.before_traffic is None or any(isinstance(s, Validate) for s in target.steps):
            return target
        return replace(target, steps=(Validate(), *target.steps))

    # -- moving traffic ---------------------------------------------------------------------

    def _shift(self, progress: list[_Progress]) -> None:
        while not all(p.done for p in progress):
            if self.abort_requested():
                raise _Stop(Outcome.ROLLED_BACK, "aborted on request")
            self._poll_alarms()
            for item in progress:
                # Shifting many targets at AWS's pace takes a while: keep watching meanwhile.
                if self._watch.due():
                    self._poll_alarms()
                self._advance(item)
            self.clock.sleep(self._seconds_to_next_wake(progress))
        self._poll_alarms()

    def _seconds_to_next_wake(self, progress: list[_Progress]) -> float:
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

    def _advance(self, item: _Progress) -> None:
        if self.full_promotion_requested():
            self._skip_to_full(item)
        while not item.done:
            step = item.run.steps[item.index]
            if not self._take(item, step):
                return
            item.index += 1
            self._record(item, "done" if item.done else "shifting")

    def _skip_to_full(self, item: _Progress) -> None:
        """`promote --full`: straight to the move to 100%, no more bakes or pauses."""
        last_shift = max(
            (i for i, step in enumerate(item.run.steps) if isinstance(step, Shift)), default=0
        )
        if item.index <= last_shift:
            item.index, item.bake_until, item.paused = last_shift, None, False
            item.run = replace(item.run, steps=item.run.steps[: last_shift + 1])

    def _take(self, item: _Progress, step: Step) -> bool:
        """Carry out `step`; False when it is still in progress."""
        if isinstance(step, Bake):
            return self._bake(item, step)
        if isinstance(step, Pause):
            return self._pause(item)
        if isinstance(step, Validate):
            self._run_hook(item, item.run.before_traffic, "before_traffic")
            return True
        self._set_weight(item, step.weight)
        if step.weight >= 100:
            self._run_hook(item, item.run.after_traffic, "after_traffic")
        return True

    def _bake(self, item: _Progress, step: Bake) -> bool:
        now = self.clock.monotonic()
        if item.bake_until is None:
            item.bake_until = now + step.duration.total_seconds()
            self._event(
                ev.BakeStarted(
                    region=self.region, target=item.run.name, seconds=step.duration.total_seconds()
                )
            )
        if now < item.bake_until:
            return False
        item.bake_until = None
        return True

    def _pause(self, item: _Progress) -> bool:
        if not item.paused:
            item.paused = True
            self._event(ev.PauseStarted(region=self.region, target=item.run.name))
        if not self.promoted(item.run.name):
            return False
        item.paused = False
        return True

    def _set_weight(self, item: _Progress, weight: Decimal) -> None:
        current = self._read_checked(item)
        routing = AliasRouting.towards(item.old, item.new.version, weight)
        # If the write's answer is lost, AWS may hold either routing: both are rollout's own.
        item.pending = routing
        self._record(item)
        item.last = item.run.adapter.update_alias(routing, current)
        item.pending = None
        self._record(item)
        self._event(
            ev.WeightShifted(
                region=self.region,
                target=item.run.name,
                weight=float(weight),
                routing=routing.describe(),
            )
        )

    def _read_checked(self, item: _Progress) -> AliasState:
        """The alias as AWS has it now, which must be what rollout last set."""
        current = item.run.adapter.read_alias()
        found = current.routing if current is not None else None
        ours = [item.last.routing, *([item.pending] if item.pending else [])]
        if not any(routing.same_as(found) for routing in ours):
            self._event(
                ev.DriftDetected(
                    region=self.region,
                    target=item.run.name,
                    expected=item.last.routing.describe(),
                    found=found.describe() if found else "no alias",
                )
            )
            raise _Stop(
                Outcome.NEEDS_HUMAN,
                f"{item.run.name}: the alias changed outside rollout (expected "
                f"{item.last.routing.describe()}, found "
                f"{found.describe() if found else 'no alias'}); nothing more was changed",
            )
        assert current is not None
        return current

    def _run_hook(self, item: _Progress, hook: Hook | None, phase: str) -> None:
        if hook is None:
            return
        context = HookContext(
            region=self.region,
            target=item.run.name,
            phase=phase,
            alias_arn=item.initial.arn,
            new_version=item.new.version,
            new_version_arn=item.new.arn,
            old_version=item.old,
        )
        outcome = self.hooks.run(hook, context)
        self._event(
            ev.HookFinished(
                region=self.region,
                target=item.run.name,
                phase=phase,
                hook=describe_hook(hook),
                passed=outcome.passed,
                detail=outcome.detail,
            )
        )
        if not outcome.passed:
            raise _Stop(
                Outcome.ROLLED_BACK, f"{item.run.name}: {phase} hook failed: {outcome.detail}"
            )

    # -- going back -------------------------------------------------------------------------

    def _roll_back(self, progress: list[_Progress], reason: str) -> tuple[Outcome, str]:
        # Decided: record it for every target first, so a process that dies from here on
        # leaves a rollback for `resume` to finish, never a release to carry on with.
        for item in progress:
            self._record(item, "rolling_back")
        self._event(ev.RollbackStarted(region=self.region, reason=reason))
        failures = []
        for item in progress:
            if item.last.routing.same_as(item.initial.routing):
                self._record(item, "rolled_back")
                continue
            failure = self._restore_with_retries(item)
            if failure is not None:
                failures.append(
                    f"{item.run.name}: {failure} (still to restore: "
                    f"{item.initial.routing.describe()} on {item.initial.arn})"
                )
                self._event(
                    ev.RollbackFailed(region=self.region, target=item.run.name, error=failure)
                )
                continue
            restored = item.initial.routing.describe()
            self._event(
                ev.AliasRestored(region=self.region, target=item.run.name, routing=restored)
            )
        if failures:
            return Outcome.NEEDS_HUMAN, f"{reason}; rollback incomplete: {'; '.join(failures)}"
        return Outcome.ROLLED_BACK, f"{reason}; rolled back to the recorded routing"

    def _restore_with_retries(self, item: _Progress) -> str | None:
        """Put one alias back, retrying AWS errors with backoff until the deadline; the error."""
        deadline = self.clock.monotonic() + self.rollback_deadline_seconds
        delay = 0.5
        while True:
            try:
                current = self._read_checked(item)
                item.pending = item.initial.routing
                self._record(item, "rolling_back")
                item.last = item.run.adapter.update_alias(item.initial.routing, current)
                item.pending = None
                self._record(item, "rolled_back")
                return None
            except _Stop as stop:  # drift: someone else owns the alias now
                return stop.message
            except Exception as exc:
                if self.clock.monotonic() + delay > deadline:
                    return _error_text(exc)
            # botocore already retried this call; back off before trying the whole write again.
            self.clock.sleep(delay)
            delay = min(delay * 2, 30.0)


def _error_text(exc: Exception) -> str:
    if isinstance(exc, TargetError):
        return str(exc)
    return f"unexpected {type(exc).__name__}: {exc}"


def _remember(values: dict[str, str], target: str, version: PublishedVersion) -> None:
    values[f"targets.{target}.version"] = version.version.rsplit(":", 1)[-1]
    values[f"targets.{target}.version_arn"] = version.arn


def _nothing_message(outcome: Outcome) -> str:
    if outcome is Outcome.NOTHING_TO_DO:
        return "nothing to do: every alias already serves this release"
    return "released (new aliases created, no traffic to shift)"


def describe_hook(hook: Hook) -> str:
    """`lambda smoke-test`, `command ./smoke.sh`, …"""
    for kind in ("lambda_", "stepfunctions", "command", "http"):
        value = getattr(hook, kind)
        if value is not None:
            return f"{kind.rstrip('_')} {value}"
    return "hook"
