"""What the engine asks of AWS, on fakes and a fake clock: calls per target per step, journal
writes, and when a region finishes. Speed is shown by counts and fake time, never timed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from decimal import Decimal

import pytest

from rollout.engine.outcome import Outcome
from rollout.engine.ports import (
    HookContext,
    HookKind,
    HookOutcome,
    HookSpec,
    TargetSnapshot,
    TargetStatus,
)
from rollout.engine.region import TargetRun
from rollout.engine.routing import AliasRouting, AliasState
from strategies import all_at_once, canary, linear
from strategies import steps as explicit
from tests.engine.fakes import FakeAlarms, FakeClock, FakeHooks, FakeTarget
from tests.engine.test_region import MINUTE, FailingJournal, region

LINEAR_25 = linear.steps(percent=Decimal(25), interval=MINUTE, bake=timedelta(0))


def test_each_step_on_a_revision_guarded_alias_is_one_write_and_no_read() -> None:
    clock = FakeClock()
    targets = [FakeTarget(clock, name=f"t{n}") for n in range(3)]
    runs = [TargetRun(t.name, t, LINEAR_25, ("errors",)) for t in targets]
    engine, _ = region(clock, runs)

    assert engine.run().outcome is Outcome.SUCCEEDED
    for target in targets:
        assert target.updates == 4  # 25, 50, 75, 100
        # The revision comes from the last write's answer; one read at the end looks for drift
        # on an alias that will not be written again.
        assert target.reads == 1


def test_an_alias_without_a_revision_guard_is_read_before_every_write() -> None:
    clock = FakeClock()
    target = FakeTarget(clock, revision_guarded=False)
    engine, _ = region(clock, [TargetRun("flow", target, LINEAR_25, ("errors",))])

    assert engine.run().outcome is Outcome.SUCCEEDED
    assert (target.updates, target.reads) == (4, 4 + 1)


def test_a_refused_revision_whose_alias_is_still_ours_is_written_again_after_one_read() -> None:
    clock = FakeClock()
    target = FakeTarget(clock)
    # Someone touched the alias without changing its routing (a new description): a new revision.
    clock.at(
        30.0, lambda: setattr(target, "alias", AliasState("arn:fn:live", target.alias.routing, "d"))
    )
    engine, log = region(clock, [TargetRun("api", target, LINEAR_25, ("errors",))])

    assert engine.run().outcome is Outcome.SUCCEEDED
    assert target.alias.routing == AliasRouting("2")
    assert "drift_detected" not in log.kinds()
    assert target.reads == 1 + 1  # the one after the refusal, and the last look


def test_a_rollback_restores_a_revision_guarded_alias_without_reading_it() -> None:
    clock = FakeClock()
    alarms = FakeAlarms({"errors": "OK"})
    clock.at(90.0, lambda: alarms.states_now.update(errors="ALARM"))
    targets = [FakeTarget(clock, name=f"t{n}") for n in range(3)]
    runs = [TargetRun(t.name, t, LINEAR_25, ("errors",)) for t in targets]
    engine, _ = region(clock, runs, alarms)

    assert engine.run().outcome is Outcome.ROLLED_BACK
    for target in targets:
        assert target.alias is not None and target.alias.routing == AliasRouting("1")
        assert (target.updates, target.reads) == (2 + 1, 0)


def test_a_rollback_meeting_drift_through_a_refused_revision_leaves_that_alias_as_found() -> None:
    clock = FakeClock()
    alarms = FakeAlarms({"errors": "OK"})
    api, flow = FakeTarget(clock, name="api"), FakeTarget(clock, name="flow")
    intruder = AliasRouting("1", (("2", Decimal(50)),))

    def meddle_then_alarm() -> None:
        flow.alias = AliasState("arn:fn:live", intruder, "x")
        alarms.states_now.update(errors="ALARM")

    clock.at(30.0, meddle_then_alarm)
    runs = [TargetRun("api", api, LINEAR_25, ("errors",)), TargetRun("flow", flow, LINEAR_25, ())]
    engine, log = region(clock, runs, alarms)

    result = engine.run()

    assert result.outcome is Outcome.NEEDS_HUMAN
    assert api.alias is not None and api.alias.routing == AliasRouting("1")
    assert flow.alias is not None and flow.alias.routing == intruder
    assert "flow: the alias changed outside rollout" in result.message
    assert "drift_detected" in log.kinds()


CANARY = canary.steps(percent=Decimal(10), interval=MINUTE, bake=timedelta(0))


class CountingJournal:
    """A journal in memory that counts its durable writes."""

    def __init__(self) -> None:
        self.snapshots: dict[str, TargetSnapshot] = {}
        self.writes = 0

    def targets(self, region: str, snapshots: Mapping[str, TargetSnapshot]) -> None:
        self.snapshots.update(snapshots)
        self.writes += 1


class Killed(BaseException):
    """The process dies here (SIGKILL): nothing after it runs."""


def test_a_rollback_journals_its_decision_once_for_the_region_before_any_alias_goes_back() -> None:
    clock = FakeClock()
    alarms = FakeAlarms({"errors": "OK"})
    journal = CountingJournal()
    targets = [FakeTarget(clock, name=f"t{n}") for n in range(5)]

    def alarm() -> None:
        alarms.states_now.update(errors="ALARM")
        journal.writes = 0

    clock.at(30.0, alarm)
    runs = [TargetRun(t.name, t, CANARY, ("errors",)) for t in targets]
    engine, _ = region(clock, runs, alarms, journal=journal)

    assert engine.run().outcome is Outcome.ROLLED_BACK
    # One write says "rolling back" for every target, one says where each ended.
    assert journal.writes == 2
    assert {s.status for s in journal.snapshots.values()} == {TargetStatus.ROLLED_BACK}


class KilledOnRollback(FakeTarget):
    """The process is killed as it sends this alias's first rollback write."""

    armed: bool = True

    def update_alias(self, routing: AliasRouting, expected: AliasState) -> AliasState:
        if self.armed and routing == AliasRouting("1"):
            raise Killed
        return super().update_alias(routing, expected)


def test_a_process_killed_right_after_the_rollback_decision_leaves_a_rollback_to_finish() -> None:
    clock = FakeClock()
    alarms = FakeAlarms({"errors": "OK"})
    journal = CountingJournal()
    targets = [KilledOnRollback(clock, name=f"t{n}") for n in range(3)]
    clock.at(30.0, lambda: alarms.states_now.update(errors="ALARM"))
    runs = [TargetRun(t.name, t, CANARY, ("errors",)) for t in targets]
    engine, _ = region(clock, runs, alarms, journal=journal)
    with pytest.raises(Killed):
        engine.run()
    assert {s.status for s in journal.snapshots.values()} == {TargetStatus.ROLLING_BACK}
    assert all(t.alias is not None and t.alias.routing != AliasRouting("1") for t in targets)

    for target in targets:
        target.armed = False
    alarms.states_now.update(errors="OK")  # the alarm cleared: still, no release carries on
    again, _ = region(clock, runs, alarms, journal=journal)
    result = again.resume(dict(journal.snapshots))

    assert result.outcome is Outcome.ROLLED_BACK, result.message
    for target in targets:
        assert target.alias is not None and target.alias.routing == AliasRouting("1")
    assert {s.status for s in journal.snapshots.values()} == {TargetStatus.ROLLED_BACK}


def test_a_region_finishes_at_its_last_write_when_no_bake_is_left() -> None:
    clock = FakeClock()
    target = FakeTarget(clock)
    alarms = FakeAlarms({"errors": "OK"})
    engine, _ = region(clock, [TargetRun("api", target, CANARY, ("errors",))], alarms, poll=5.0)

    assert engine.run().outcome is Outcome.SUCCEEDED
    last_write = target.history[-1][0]
    assert last_write == 60.0 and clock.time == last_write  # no idle poll interval at the end
    # Before the start, then every 5 s from the first shift to the last: no extra read at the end.
    assert alarms.calls == 1 + 60 // 5 + 1


def test_a_region_finishes_when_its_last_bake_ends() -> None:
    clock = FakeClock()
    target = FakeTarget(clock)
    steps = canary.steps(percent=Decimal(10), interval=MINUTE, bake=timedelta(seconds=12))
    engine, _ = region(clock, [TargetRun("api", target, steps, ("errors",))], poll=5.0)

    assert engine.run().outcome is Outcome.SUCCEEDED
    assert clock.time == 60.0 + 12.0


class TimedJournal(CountingJournal):
    """Counts the durable writes made at each instant of the fake clock."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__()
        self.clock = clock
        self.at: dict[float, int] = {}

    def targets(self, region: str, snapshots: Mapping[str, TargetSnapshot]) -> None:
        super().targets(region, snapshots)
        self.at[self.clock.time] = self.at.get(self.clock.time, 0) + 1


def test_a_traffic_step_journals_each_target_once_and_the_step_once_more() -> None:
    # Each write rewrites the whole state document (an S3 object, in a shared store): four
    # writes per target per step made a rollout's journal cost grow with its size squared.
    clock = FakeClock()
    journal = TimedJournal(clock)
    targets = [FakeTarget(clock, name=f"t{n}") for n in range(5)]
    runs = [TargetRun(t.name, t, LINEAR_25, ("errors",)) for t in targets]
    engine, _ = region(clock, runs, journal=journal)

    assert engine.run().outcome is Outcome.SUCCEEDED
    # The second step, at one minute: a bake ends, the alias is written, a bake begins.
    assert journal.at[60.0] == len(targets) + 1
    ended = journal.snapshots.values()
    assert {s.status for s in ended} == {TargetStatus.DONE}
    assert all(s.last == AliasRouting("2") and s.pending is None for s in ended)


class KilledAtUpdate(FakeTarget):
    """The process dies as this alias's `fatal`-th write is sent."""

    fatal: int = 0

    def update_alias(self, routing: AliasRouting, expected: AliasState) -> AliasState:
        if self.updates + 1 == self.fatal:
            raise Killed
        return super().update_alias(routing, expected)


@pytest.mark.parametrize("victim", [0, 2])
@pytest.mark.parametrize("fatal", [1, 2, 4])
def test_a_kill_at_any_write_leaves_every_alias_where_the_journal_says_it_may_be(
    victim: int, fatal: int
) -> None:
    clock = FakeClock()
    journal = CountingJournal()
    targets = [KilledAtUpdate(clock, name=f"t{n}") for n in range(3)]
    targets[victim].fatal = fatal
    runs = [TargetRun(t.name, t, LINEAR_25, ("errors",)) for t in targets]
    engine, _ = region(clock, runs, journal=journal)
    with pytest.raises(Killed):
        engine.run()

    for target in targets:
        recorded = journal.snapshots[target.name]
        assert target.alias is not None
        # What rollout last set, or the write it was making: nothing else is its own.
        assert target.alias.routing in (recorded.last, recorded.pending), target.name
    targets[victim].fatal = 0
    again, log = region(clock, runs, journal=journal)
    result = again.resume(dict(journal.snapshots))
    assert result.outcome is Outcome.SUCCEEDED, result.message
    assert "drift_detected" not in log.kinds()
    assert all(t.alias is not None and t.alias.routing == AliasRouting("2") for t in targets)


class KilledAtRead(FakeTarget):
    """The process dies as this alias's `fatal`-th read is sent (a Step Functions alias is read
    before every write)."""

    fatal: int = 0

    def read_alias(self) -> AliasState | None:
        if self.reads + 1 == self.fatal:
            raise Killed
        return super().read_alias()


HOOK = HookSpec(HookKind.COMMAND, "./smoke.sh {alias_arn}")


def phase_runs(hooks: FakeHooks, phase: str, target: str) -> int:
    return sum(1 for run in hooks.runs if run.phase == phase and run.target == target)


def test_a_kill_after_a_before_traffic_hook_passed_does_not_run_it_again_on_resume() -> None:
    # The hook passed; the read that precedes the first write to an unguarded alias is where
    # the process dies. Its passing must already be durable, or a resume runs it twice.
    clock = FakeClock()
    journal = CountingJournal()
    hooks = FakeHooks()
    flow = KilledAtRead(clock, name="flow", revision_guarded=False)
    flow.fatal = 1
    runs = [TargetRun("flow", flow, CANARY, ("errors",), before_traffic=HOOK)]
    engine, _ = region(clock, runs, hooks=hooks, journal=journal)
    with pytest.raises(Killed):
        engine.run()
    assert phase_runs(hooks, "before_traffic", "flow") == 1

    flow.fatal = 0
    again, _ = region(clock, runs, hooks=hooks, journal=journal)
    result = again.resume(dict(journal.snapshots))

    assert result.outcome is Outcome.SUCCEEDED, result.message
    assert phase_runs(hooks, "before_traffic", "flow") == 1


def test_a_kill_after_an_after_traffic_hook_passed_does_not_run_it_again_on_resume() -> None:
    # api reaches 100% and its after_traffic hook passes; the process dies while the same
    # tick reads flow's (unguarded) alias before writing it.
    clock = FakeClock()
    journal = CountingJournal()
    hooks = FakeHooks()
    api = FakeTarget(clock, name="api")
    flow = KilledAtRead(clock, name="flow", revision_guarded=False)
    flow.fatal = 1
    steps = all_at_once.steps(bake=MINUTE)
    runs = [
        TargetRun("api", api, steps, ("errors",), after_traffic=HOOK),
        TargetRun("flow", flow, steps, ("errors",)),
    ]
    engine, _ = region(clock, runs, hooks=hooks, journal=journal)
    with pytest.raises(Killed):
        engine.run()
    assert phase_runs(hooks, "after_traffic", "api") == 1

    flow.fatal = 0
    again, _ = region(clock, runs, hooks=hooks, journal=journal)
    result = again.resume(dict(journal.snapshots))

    assert result.outcome is Outcome.SUCCEEDED, result.message
    assert phase_runs(hooks, "after_traffic", "api") == 1


class SlowHooks(FakeHooks):
    """Hooks that take half a minute of the fake clock, as a smoke test does."""

    clock: FakeClock | None = None

    def run(self, hook: HookSpec, context: HookContext) -> HookOutcome:
        assert self.clock is not None
        self.clock.sleep(30.0)
        return super().run(hook, context)


class KilledAtAlarmRead(FakeAlarms):
    """The process dies as it sends its `fatal`-th DescribeAlarms."""

    fatal: int = 0

    def states(self, names: Sequence[str]) -> Mapping[str, str]:
        if self.calls + 1 == self.fatal:
            raise Killed
        return super().states(names)


def test_a_kill_at_the_alarm_read_after_a_long_after_traffic_hook_does_not_run_it_again() -> None:
    # Lambda only: the alarms are read again once a hook that took a while has passed; a
    # process killed during that read must not run the passed hook again on resume.
    clock = FakeClock()
    journal = CountingJournal()
    hooks = SlowHooks()
    hooks.clock = clock
    alarms = KilledAtAlarmRead({"errors": "OK"})
    alarms.fatal = 3  # before the start, at the top of the first tick, after the hook
    api, web = FakeTarget(clock, name="api"), FakeTarget(clock, name="web")
    steps = all_at_once.steps(bake=MINUTE)
    runs = [
        TargetRun("api", api, steps, ("errors",), after_traffic=HOOK),
        TargetRun("web", web, steps, ("errors",)),
    ]
    engine, _ = region(clock, runs, alarms, hooks=hooks, journal=journal)
    with pytest.raises(Killed):
        engine.run()
    assert phase_runs(hooks, "after_traffic", "api") == 1

    alarms.fatal = 0
    again, _ = region(clock, runs, alarms, hooks=hooks, journal=journal)
    result = again.resume(dict(journal.snapshots))

    assert result.outcome is Outcome.SUCCEEDED, result.message
    assert phase_runs(hooks, "after_traffic", "api") == 1


def test_a_kill_right_after_a_promote_does_not_wait_at_that_pause_again_on_resume() -> None:
    # A resume clears the requests (a promote is for the process that read it): a pause the
    # human released must be durable as released before anything else can kill the process.
    clock = FakeClock()
    journal = CountingJournal()
    flow = KilledAtRead(clock, name="flow", revision_guarded=False)
    flow.fatal = 2  # the read before the write that follows the pause
    items = [explicit.ExplicitStep(Decimal(50), manual=True), explicit.ExplicitStep(Decimal(100))]
    steps = explicit.steps(items, bake=timedelta(0))
    promoted = {"flow": False}
    clock.at(600.0, lambda: promoted.update(flow=True))
    runs = [TargetRun("flow", flow, steps, ("errors",))]
    engine, _ = region(clock, runs, journal=journal, promoted=lambda name, _step: promoted[name])
    with pytest.raises(Killed):
        engine.run()
    assert not journal.snapshots["flow"].paused

    flow.fatal = 0
    gave_up_at = clock.time + 3600.0
    again, log = region(
        clock,
        runs,
        journal=journal,
        abort_requested=lambda: clock.time > gave_up_at,  # waiting for a second promote
    )
    result = again.resume(dict(journal.snapshots))

    assert result.outcome is Outcome.SUCCEEDED, result.message
    assert "pause_started" not in log.kinds()
    assert flow.alias is not None and flow.alias.routing == AliasRouting("2")


def test_a_store_failing_on_the_flush_before_a_hook_rolls_back_from_memory_without_the_hook() -> (
    None
):
    # Published, then the write naming the move to 100% as pending; the third write is the
    # flush of "at 100%" before the after_traffic hook, and the store is gone by then.
    clock = FakeClock()
    hooks = FakeHooks()
    api = FakeTarget(clock, name="api")
    runs = [TargetRun("api", api, all_at_once.steps(bake=MINUTE), ("errors",), after_traffic=HOOK)]
    engine, _ = region(clock, runs, hooks=hooks, journal=FailingJournal(good=2))

    result = engine.run()

    assert result.outcome is Outcome.NEEDS_HUMAN, result.message
    assert api.alias is not None and api.alias.routing == AliasRouting("1")
    assert hooks.runs == []
    assert result.message.startswith("state store: cannot write")
    assert result.message.count("state store") == 1 and "from memory" in result.message


def test_a_store_failing_on_the_last_flush_of_a_step_rolls_back_from_memory() -> None:
    # Published, then the write naming the move to 100% as pending; the flush after the loop
    # (the step passed, the target done) is the write that fails.
    clock = FakeClock()
    api = FakeTarget(clock, name="api")
    runs = [TargetRun("api", api, all_at_once.steps(bake=timedelta(0)), ("errors",))]
    engine, _ = region(clock, runs, journal=FailingJournal(good=2))

    result = engine.run()

    assert result.outcome is Outcome.NEEDS_HUMAN, result.message
    assert api.alias is not None and api.alias.routing == AliasRouting("1")
    assert [float(r.weight_of("2")) for _, r in api.history] == [100.0, 0.0]
    assert "from memory" in result.message


def test_a_target_done_while_another_still_shifts_is_journaled_done_before_the_next_wait() -> None:
    clock = FakeClock()
    journal = CountingJournal()
    seen: list[TargetSnapshot] = []
    fast, slow = FakeTarget(clock, name="fast"), FakeTarget(clock, name="slow")
    runs = [
        TargetRun("fast", fast, all_at_once.steps(bake=MINUTE), ("errors",)),
        TargetRun(
            "slow",
            slow,
            canary.steps(percent=Decimal(10), interval=5 * MINUTE, bake=timedelta(0)),
            ("errors",),
        ),
    ]
    clock.at(61.0, lambda: seen.append(journal.snapshots["fast"]))
    engine, _ = region(clock, runs, journal=journal)

    assert engine.run().outcome is Outcome.SUCCEEDED
    assert seen[0].status is TargetStatus.DONE and seen[0].last == AliasRouting("2")
