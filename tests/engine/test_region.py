"""The region engine against fakes with real state and a fake clock: no AWS, no sleeping."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from rollout.engine import events as ev
from rollout.engine.alarm_watch import AlarmPolicy
from rollout.engine.outcome import Outcome, RegionResult
from rollout.engine.ports import (
    HookContext,
    HookKind,
    HookOutcome,
    HookSpec,
    JournalError,
    TargetError,
    TargetSnapshot,
    TargetStatus,
)
from rollout.engine.region import RegionRollout, TargetRun
from rollout.engine.routing import AliasRouting, AliasState
from strategies import Pause, canary, codedeploy, linear
from strategies import steps as explicit
from tests.engine.fakes import EventLog, FakeAlarms, FakeClock, FakeHooks, FakeTarget

MINUTE = timedelta(minutes=1)
START = datetime(2026, 1, 1, tzinfo=timezone.utc)  # the fake clock's wall time at 0 s


def region(
    clock: FakeClock,
    targets: list[TargetRun],
    alarms: FakeAlarms | None = None,
    hooks: FakeHooks | None = None,
    poll: float = 10.0,
    **kwargs: object,
) -> tuple[RegionRollout, EventLog]:
    log = EventLog()
    engine = RegionRollout(
        region="us-east-1",
        targets=targets,
        alarms=alarms or FakeAlarms({"errors": "OK"}),
        clock=clock,
        policy=AlarmPolicy(poll_seconds=poll),
        emit=log,
        hooks=hooks or FakeHooks(),
        **kwargs,  # type: ignore[arg-type]
    )
    return engine, log


def test_linear_ten_every_minute_shifts_on_aws_schedule_and_ends_on_new_version() -> None:
    clock = FakeClock()
    target = FakeTarget(clock)
    steps = codedeploy.steps("Linear10PercentEvery1Minute", bake=timedelta(0))
    engine, _ = region(clock, [TargetRun("api", target, steps, ("errors",))])

    result = engine.run()

    assert result.outcome is Outcome.SUCCEEDED
    assert target.weights() == [(60.0 * n, 10.0 * (n + 1)) for n in range(10)]
    assert target.alias is not None
    assert target.alias.routing == AliasRouting("2")


def test_alarm_during_bake_rolls_back_to_recorded_routing_within_one_poll() -> None:
    clock = FakeClock()
    start = AliasRouting("1", (("0", Decimal(5)),))  # already mid-shift from an older release
    target = FakeTarget(clock, versions={"0": "v0", "1": "v1-code"})
    target.alias = target.alias.__class__("arn:fn:live", start, "r0")
    alarms = FakeAlarms({"errors": "OK"})
    clock.at(125.0, lambda: alarms.states_now.update(errors="ALARM"))
    steps = linear.steps(percent=Decimal(10), interval=MINUTE, bake=timedelta(0))
    run = TargetRun("api", target, steps, ("errors",))
    engine, log = region(clock, [run], alarms, replace_split=True)

    result = engine.run()

    assert result.outcome is Outcome.ROLLED_BACK
    assert target.alias.routing == start
    restored_at, restored = target.history[-1]
    assert restored == start and 125.0 <= restored_at <= 125.0 + 10.0
    assert max(w for _, w in target.weights()) == 30.0
    assert "alarm_changed" in log.kinds() and log.kinds()[-1] == "alias_restored"


def test_alarm_already_firing_refuses_before_anything_is_published() -> None:
    clock = FakeClock()
    target = FakeTarget(clock)
    steps = canary.steps(percent=Decimal(10), interval=MINUTE, bake=timedelta(0))
    engine, _ = region(
        clock, [TargetRun("api", target, steps, ("errors",))], FakeAlarms({"errors": "ALARM"})
    )

    result = engine.run()

    assert result.outcome is Outcome.FAILED_BEFORE_TRAFFIC
    assert "errors (ALARM)" in result.message
    assert list(target.versions) == ["1"] and target.history == []


def test_missing_alarm_is_an_error_before_anything_is_published() -> None:
    clock = FakeClock()
    target = FakeTarget(clock)
    steps = canary.steps(percent=Decimal(10), interval=MINUTE, bake=timedelta(0))
    engine, _ = region(clock, [TargetRun("api", target, steps, ("errors", "p99"))])

    result = engine.run()

    assert result.outcome is Outcome.FAILED_BEFORE_TRAFFIC
    assert "do not exist: p99" in result.message
    assert list(target.versions) == ["1"]


def test_insufficient_data_fails_only_when_the_policy_says_so() -> None:
    clock = FakeClock()
    steps = canary.steps(percent=Decimal(10), interval=MINUTE, bake=timedelta(0))
    alarms = FakeAlarms({"errors": "INSUFFICIENT_DATA"})
    engine, _ = region(clock, [TargetRun("api", FakeTarget(clock), steps, ("errors",))], alarms)
    assert engine.run().outcome is Outcome.SUCCEEDED

    strict, _ = region(clock, [TargetRun("api", FakeTarget(clock), steps, ("errors",))], alarms)
    strict.policy = AlarmPolicy(poll_seconds=10, insufficient_data_fails=True)
    assert strict.run().outcome is Outcome.FAILED_BEFORE_TRAFFIC


def test_two_targets_in_one_region_roll_back_together() -> None:
    clock = FakeClock()
    api, flow = FakeTarget(clock, name="api"), FakeTarget(clock, name="flow")
    alarms = FakeAlarms({"api-errors": "OK", "flow-errors": "OK"})
    clock.at(90.0, lambda: alarms.states_now.update({"flow-errors": "ALARM"}))
    engine, _ = region(
        clock,
        [
            TargetRun(
                "api",
                api,
                canary.steps(percent=Decimal(10), interval=MINUTE, bake=MINUTE),
                ("api-errors",),
            ),
            TargetRun(
                "flow",
                flow,
                linear.steps(percent=Decimal(50), interval=5 * MINUTE, bake=MINUTE),
                ("flow-errors",),
            ),
        ],
        alarms,
    )

    result = engine.run()

    assert result.outcome is Outcome.ROLLED_BACK
    assert api.alias.routing == AliasRouting("1")
    assert flow.alias.routing == AliasRouting("1")
    assert (60.0, AliasRouting("2")) in api.history  # the api had reached 100% before


def test_failing_before_traffic_hook_keeps_new_version_at_zero() -> None:
    clock = FakeClock()
    target = FakeTarget(clock)
    hook = HookSpec(HookKind.COMMAND, "./smoke.sh")
    steps = canary.steps(percent=Decimal(10), interval=MINUTE, bake=timedelta(0))
    hooks = FakeHooks(failing_phases={"before_traffic"})
    engine, _ = region(
        clock, [TargetRun("api", target, steps, ("errors",), before_traffic=hook)], hooks=hooks
    )

    result = engine.run()

    assert result.outcome is Outcome.ROLLED_BACK
    assert target.history == []
    assert hooks.runs[0].new_version == "2" and hooks.runs[0].old_version == "1"


def test_failing_after_traffic_hook_rolls_back() -> None:
    clock = FakeClock()
    target = FakeTarget(clock)
    hook = HookSpec(HookKind.HTTP, "http://127.0.0.1:1/health")
    steps = canary.steps(percent=Decimal(10), interval=MINUTE, bake=5 * MINUTE)
    hooks = FakeHooks(failing_phases={"after_traffic"})
    engine, _ = region(
        clock, [TargetRun("api", target, steps, ("errors",), after_traffic=hook)], hooks=hooks
    )

    assert engine.run().outcome is Outcome.ROLLED_BACK
    assert target.alias.routing == AliasRouting("1")
    assert [float(r.weight_of("2")) for _, r in target.history] == [10.0, 100.0, 0.0]


def test_drift_mid_rollout_stops_without_overwriting() -> None:
    clock = FakeClock()
    target = FakeTarget(clock)
    intruder = AliasRouting("1", (("2", Decimal(50)),))
    clock.at(
        30.0, lambda: setattr(target, "alias", target.alias.__class__("arn:fn:live", intruder, "x"))
    )
    steps = linear.steps(percent=Decimal(10), interval=MINUTE, bake=timedelta(0))
    engine, log = region(clock, [TargetRun("api", target, steps, ("errors",))])

    result = engine.run()

    assert result.outcome is Outcome.NEEDS_HUMAN
    assert target.alias.routing == intruder
    assert "drift_detected" in log.kinds() and "rollback_started" not in log.kinds()


def test_unchanged_code_is_nothing_to_do() -> None:
    clock = FakeClock()
    target = FakeTarget(clock, code="v1-code")
    steps = canary.steps(percent=Decimal(10), interval=MINUTE, bake=timedelta(0))
    engine, log = region(clock, [TargetRun("api", target, steps, ("errors",))])

    assert engine.run().outcome is Outcome.NOTHING_TO_DO
    assert list(target.versions) == ["1"] and "nothing_to_publish" in log.kinds()


def test_first_deploy_creates_the_alias_without_shifting() -> None:
    clock = FakeClock()
    target = FakeTarget(clock, versions={}, alias=None)
    steps = canary.steps(percent=Decimal(10), interval=MINUTE, bake=timedelta(0))
    engine, log = region(clock, [TargetRun("api", target, steps, ("errors",))])

    assert engine.run().outcome is Outcome.SUCCEEDED
    assert target.alias is not None and target.alias.routing == AliasRouting("1")
    assert clock.time == 0.0 and "alias_created" in log.kinds()


def test_aws_error_while_shifting_rolls_back() -> None:
    clock = FakeClock()
    target = FakeTarget(clock, fail_update_at_call=3)
    steps = linear.steps(percent=Decimal(25), interval=MINUTE, bake=timedelta(0))
    engine, _ = region(clock, [TargetRun("api", target, steps, ("errors",))])

    result = engine.run()

    # The third write fails, and so does the rollback's write: a human must look.
    assert result.outcome is Outcome.NEEDS_HUMAN
    assert "rollback incomplete" in result.message


def test_manual_pause_waits_for_promote() -> None:
    clock = FakeClock()
    target = FakeTarget(clock)
    promoted = {"api": False}
    clock.at(600.0, lambda: promoted.update(api=True))
    items = [explicit.ExplicitStep(Decimal(50), manual=True), explicit.ExplicitStep(Decimal(100))]
    steps = explicit.steps(items, bake=timedelta(0))
    engine, _ = region(
        clock,
        [TargetRun("api", target, steps, ("errors",))],
        promoted=lambda name, _step: promoted[name],
    )

    assert engine.run().outcome is Outcome.SUCCEEDED
    assert target.weights() == [(0.0, 50.0), (600.0, 100.0)]


class MemoryJournal:
    """Keeps every snapshot written, as a state store held them over time."""

    def __init__(self) -> None:
        self.written: list[TargetSnapshot] = []

    def targets(self, region: str, snapshots: Mapping[str, TargetSnapshot]) -> None:
        self.written.extend(snapshots.values())


PAUSE_HOOK = HookSpec(HookKind.COMMAND, "notify {promote_command}")
PROMOTE = "rollout promote -f rollout.yaml --region us-east-1 --target api"


def paused_release(clock: FakeClock, target: FakeTarget) -> TargetRun:
    items = [explicit.ExplicitStep(Decimal(50), manual=True), explicit.ExplicitStep(Decimal(100))]
    steps = explicit.steps(items, bake=timedelta(0))
    return TargetRun("api", target, steps, ("errors",), on_pause=PAUSE_HOOK)


def on_pause_runs(log: EventLog) -> list[ev.HookFinished]:
    return [e for e in log.events if isinstance(e, ev.HookFinished) and e.phase == "on_pause"]


def test_on_pause_hook_runs_once_per_pause_with_the_promote_command() -> None:
    clock = FakeClock()
    target = FakeTarget(clock)
    promoted = {"api": False}
    clock.at(600.0, lambda: promoted.update(api=True))
    hooks = FakeHooks()
    engine, log = region(
        clock,
        [paused_release(clock, target)],
        hooks=hooks,
        promoted=lambda name, _step: promoted[name],
        promote_command=lambda name: (
            f"rollout promote -f rollout.yaml --region us-east-1 --target {name}"
        ),
    )

    assert engine.run().outcome is Outcome.SUCCEEDED

    # Sixty polls of ten seconds while paused, one notice.
    assert len(on_pause_runs(log)) == 1
    assert [run.promote_command for run in hooks.runs if run.phase == "on_pause"] == [PROMOTE]
    paused = [e for e in log.events if isinstance(e, ev.PauseStarted)]
    assert [e.promote_command for e in paused] == [PROMOTE]


def test_a_failing_on_pause_hook_is_a_warning_and_the_pause_still_waits_for_promote() -> None:
    clock = FakeClock()
    target = FakeTarget(clock)
    promoted = {"api": False}
    clock.at(300.0, lambda: promoted.update(api=True))
    engine, log = region(
        clock,
        [paused_release(clock, target)],
        hooks=FakeHooks(failing_phases={"on_pause"}),
        promoted=lambda name, _step: promoted[name],
    )

    assert engine.run().outcome is Outcome.SUCCEEDED
    assert target.weights() == [(0.0, 50.0), (300.0, 100.0)]
    (notice,) = on_pause_runs(log)
    assert not notice.passed and "smoke test returned 500" in notice.detail


def test_resuming_while_still_paused_does_not_notify_again() -> None:
    clock = FakeClock()
    journal = MemoryJournal()
    promoted = {"api": False}
    clock.at(600.0, lambda: promoted.update(api=True))
    first, first_log = region(
        clock,
        [paused_release(clock, FakeTarget(clock))],
        journal=journal,
        promoted=lambda name, _step: promoted[name],
    )
    first.run()
    # What the store held while the first process waited: a process killed then left this.
    waiting = next(snap for snap in journal.written if snap.paused and snap.notified)
    assert len(on_pause_runs(first_log)) == 1

    assert waiting.last is not None
    target = FakeTarget(clock, versions={"1": "v1-code", "2": "v2-code"})
    target.alias = AliasState("arn:fn:live", waiting.last, "r1")
    promoted["api"] = False
    clock.at(clock.time + 120.0, lambda: promoted.update(api=True))
    resumed, log = region(
        clock,
        [paused_release(clock, target)],
        promoted=lambda name, _step: promoted[name],
    )

    assert resumed.resume({"api": waiting}).outcome is Outcome.SUCCEEDED
    assert on_pause_runs(log) == []
    assert "pause_started" in log.kinds()  # the resumed process still says how to release it
    assert target.alias.routing == AliasRouting("2")


def test_a_pause_reached_again_after_a_promote_notifies_again() -> None:
    clock = FakeClock()
    items = [
        explicit.ExplicitStep(Decimal(10), manual=True),
        explicit.ExplicitStep(Decimal(50), manual=True),
        explicit.ExplicitStep(Decimal(100)),
    ]
    steps = explicit.steps(items, bake=timedelta(0))
    first, second = (i for i, step in enumerate(steps) if isinstance(step, Pause))
    promoted: dict[str, int] = {}
    clock.at(300.0, lambda: promoted.update(api=first))
    clock.at(900.0, lambda: promoted.update(api=second))
    run = TargetRun("api", FakeTarget(clock), steps, ("errors",), on_pause=PAUSE_HOOK)
    engine, log = region(clock, [run], promoted=lambda name, step: promoted.get(name) == step)

    assert engine.run().outcome is Outcome.SUCCEEDED
    assert len(on_pause_runs(log)) == 2


def test_alarms_are_read_once_per_tick_whatever_the_number_of_targets() -> None:
    clock = FakeClock()
    names = {f"t{n}-errors": "OK" for n in range(100)}
    alarms = FakeAlarms(dict(names))
    steps = canary.steps(percent=Decimal(10), interval=MINUTE, bake=timedelta(0))
    runs = [TargetRun(f"t{n}", FakeTarget(clock), steps, (f"t{n}-errors",)) for n in range(100)]
    engine, _ = region(clock, runs, alarms, poll=10.0)

    assert engine.run().outcome is Outcome.SUCCEEDED
    # One read before start, then one per 10 s tick over the 60 s canary, and a last one.
    assert alarms.calls <= 1 + 7 + 1


def test_routing_written_differently_but_sending_the_same_traffic_is_not_drift() -> None:
    a = AliasRouting("1", (("2", Decimal(60)),))
    b = AliasRouting("2", (("1", Decimal(40)),))
    assert a.same_as(b) and a != b
    assert not a.same_as(AliasRouting("1", (("2", Decimal(50)),)))


class SlowTarget(FakeTarget):
    """A target whose alias writes take 3 s each, as when many targets share AWS's rate limit."""

    def update_alias(self, routing: AliasRouting, expected: AliasState) -> AliasState:
        self.clock.sleep(3.0)
        return super().update_alias(routing, expected)


def test_alarms_are_still_watched_while_many_slow_shifts_go_out() -> None:
    clock = FakeClock()
    alarms = FakeAlarms({"errors": "OK"})
    clock.at(4.0, lambda: alarms.states_now.update(errors="ALARM"))
    steps = canary.steps(percent=Decimal(10), interval=MINUTE, bake=timedelta(0))
    targets = [SlowTarget(clock, name=f"t{n}") for n in range(10)]
    runs = [TargetRun(f"t{n}", t, steps, ("errors",)) for n, t in enumerate(targets)]
    engine, _ = region(clock, runs, alarms, poll=5.0)

    assert engine.run().outcome is Outcome.ROLLED_BACK
    # The alarm fired during the second write; the third target never got traffic.
    assert [len(t.history) for t in targets[2:]] == [0] * 8


def test_an_unexpected_error_while_shifting_still_rolls_back() -> None:
    clock = FakeClock()
    target = FakeTarget(clock)
    steps = linear.steps(percent=Decimal(25), interval=MINUTE, bake=timedelta(0))
    hooks = FakeHooks()

    def broken(hook: HookSpec, context: object) -> object:
        raise RuntimeError("bug in a hook runner")

    hooks.run = broken  # type: ignore[method-assign,assignment]
    hook = HookSpec(HookKind.COMMAND, "true")
    engine, _ = region(
        clock, [TargetRun("api", target, steps, ("errors",), after_traffic=hook)], hooks=hooks
    )

    result = engine.run()

    assert result.outcome is Outcome.ROLLED_BACK
    assert "unexpected RuntimeError: bug in a hook runner" in result.message
    assert target.alias.routing == AliasRouting("1")


def test_a_write_whose_answer_was_lost_is_not_mistaken_for_drift() -> None:
    clock = FakeClock()

    class LostAnswer(FakeTarget):
        def update_alias(self, routing: AliasRouting, expected: AliasState) -> AliasState:
            state = super().update_alias(routing, expected)
            if self.updates == 2:
                raise TargetError("UpdateAlias on fn:live failed: read timeout")
            return state

    target = LostAnswer(clock)
    steps = linear.steps(percent=Decimal(25), interval=MINUTE, bake=timedelta(0))
    engine, _ = region(clock, [TargetRun("api", target, steps, ("errors",))])

    result = engine.run()

    assert result.outcome is Outcome.ROLLED_BACK, result.message
    assert target.alias.routing == AliasRouting("1")


def test_rollback_retries_until_the_alias_is_restored() -> None:
    clock = FakeClock()

    class Flaky(FakeTarget):
        def update_alias(self, routing: AliasRouting, expected: AliasState) -> AliasState:
            if routing == AliasRouting("1") and self.updates < 6:
                self.updates += 1
                raise TargetError("UpdateAlias on fn:live failed: ServiceException")
            return super().update_alias(routing, expected)

    target = Flaky(clock)
    alarms = FakeAlarms({"errors": "OK"})
    clock.at(30.0, lambda: alarms.states_now.update(errors="ALARM"))
    steps = canary.steps(percent=Decimal(10), interval=MINUTE, bake=timedelta(0))
    engine, _ = region(clock, [TargetRun("api", target, steps, ("errors",))], alarms)

    assert engine.run().outcome is Outcome.ROLLED_BACK
    assert target.alias.routing == AliasRouting("1")


def test_rollback_that_outlasts_its_deadline_says_what_remains() -> None:
    clock = FakeClock()
    target = FakeTarget(clock, fail_update_at_call=2)
    alarms = FakeAlarms({"errors": "OK"})
    clock.at(30.0, lambda: alarms.states_now.update(errors="ALARM"))
    steps = canary.steps(percent=Decimal(10), interval=MINUTE, bake=timedelta(0))
    engine, _ = region(clock, [TargetRun("api", target, steps, ("errors",))], alarms)

    result = engine.run()

    assert result.outcome is Outcome.NEEDS_HUMAN
    assert "still to restore: 1: 100% on arn:fn:live" in result.message
    assert clock.time >= 300.0


def test_drift_on_one_target_rolls_the_others_back_and_leaves_it_as_found() -> None:
    clock = FakeClock()
    api, flow = FakeTarget(clock, name="api"), FakeTarget(clock, name="flow")
    intruder = AliasRouting("1", (("2", Decimal(50)),))
    clock.at(30.0, lambda: setattr(flow, "alias", AliasState("arn:fn:live", intruder, "x")))
    steps = linear.steps(percent=Decimal(10), interval=MINUTE, bake=timedelta(0))
    runs = [TargetRun("api", api, steps, ("errors",)), TargetRun("flow", flow, steps, ("errors",))]
    engine, log = region(clock, runs)

    result = engine.run()

    assert result.outcome is Outcome.NEEDS_HUMAN
    assert api.alias is not None and api.alias.routing == AliasRouting("1")
    assert flow.alias is not None and flow.alias.routing == intruder
    assert "left as found after drift: flow" in result.message
    assert log.kinds()[-1] == "alias_restored"


class FailingJournal:
    """A state store that stops answering after `good` writes."""

    def __init__(self, good: int) -> None:
        self.good = good
        self.writes = 0

    def targets(self, region: str, snapshots: Mapping[str, TargetSnapshot]) -> None:
        self.writes += 1
        if self.writes > self.good:
            raise JournalError("state store: cannot write .rollout/x.json: No space left")


def release_with_a_store_failing_after(good: int) -> tuple[FakeTarget, RegionResult]:
    clock = FakeClock()
    target = FakeTarget(clock)
    steps = linear.steps(percent=Decimal(10), interval=MINUTE, bake=timedelta(0))
    run = TargetRun("api", target, steps, ("errors",))
    engine, _ = region(clock, [run], journal=FailingJournal(good=good))
    return target, engine.run()


def test_a_state_store_failing_mid_shift_rolls_back_from_memory_and_needs_a_human() -> None:
    # published, then before and after each write and each bake: a later write fails.
    target, result = release_with_a_store_failing_after(9)

    assert result.outcome is Outcome.NEEDS_HUMAN
    assert target.alias is not None and target.alias.routing == AliasRouting("1")
    assert "state store: cannot write" in result.message and "from memory" in result.message
    assert 0.0 < max(w for _, w in target.weights()) < 100.0


def test_a_state_store_failing_before_traffic_moved_is_a_failure_before_traffic() -> None:
    target, result = release_with_a_store_failing_after(0)

    assert result.outcome is Outcome.FAILED_BEFORE_TRAFFIC
    assert "state store" in result.message
    assert target.history == []


def test_resume_meeting_an_alarm_rolls_back_a_target_that_already_reached_100() -> None:
    clock = FakeClock()
    done = FakeTarget(clock, name="api", versions={"1": "v1-code", "2": "v2-code"})
    done.alias = AliasState("arn:fn:live", AliasRouting("2"), "r5")
    halfway = FakeTarget(clock, name="flow", versions={"1": "v1-code", "2": "v2-code"})
    halfway.alias = AliasState("arn:fn:live", AliasRouting("1", (("2", Decimal(10)),)), "r1")
    steps = canary.steps(percent=Decimal(10), interval=MINUTE, bake=timedelta(0))
    recorded = {
        "api": TargetSnapshot(
            TargetStatus.DONE,
            "arn:fn:live",
            AliasRouting("1"),
            AliasRouting("2"),
            old_version="1",
            new_version="2",
            new_version_arn="arn:fn:2",
            step=len(steps),
        ),
        "flow": TargetSnapshot(
            TargetStatus.SHIFTING,
            "arn:fn:live",
            AliasRouting("1"),
            halfway.alias.routing,
            old_version="1",
            new_version="2",
            new_version_arn="arn:fn:2",
            step=1,
        ),
    }
    alarms = FakeAlarms({"errors": "ALARM"})
    runs = [
        TargetRun("api", done, steps, ("errors",)),
        TargetRun("flow", halfway, steps, ("errors",)),
    ]
    engine, _ = region(clock, runs, alarms)

    result = engine.resume(recorded)

    assert result.outcome is Outcome.ROLLED_BACK
    assert done.alias.routing == AliasRouting("1")
    assert halfway.alias.routing == AliasRouting("1")


def test_a_split_alias_is_refused_before_anything_is_published() -> None:
    clock = FakeClock()
    target = FakeTarget(clock, versions={"0": "v0", "1": "v1-code"})
    target.alias = AliasState("arn:fn:live", AliasRouting("1", (("0", Decimal(5)),)), "r0")
    steps = canary.steps(percent=Decimal(10), interval=MINUTE, bake=timedelta(0))
    engine, _ = region(clock, [TargetRun("api", target, steps, ("errors",))])

    result = engine.run()

    assert result.outcome is Outcome.FAILED_BEFORE_TRAFFIC
    assert "already split (1: 95%, 0: 5%)" in result.message
    assert list(target.versions) == ["0", "1"] and target.history == []


def test_the_base_of_a_split_alias_is_the_version_with_the_larger_weight() -> None:
    assert AliasRouting("1", (("2", Decimal(70)),)).base == "2"
    assert AliasRouting("1", (("2", Decimal(30)),)).base == "1"
    assert AliasRouting("1", (("2", Decimal(50)),)).base == "1"  # a tie keeps the first written
    assert AliasRouting("arn:v2", (("arn:v1", Decimal(90)),)).base == "arn:v1"


def test_a_signal_during_a_long_bake_rolls_back_at_once_not_a_poll_later() -> None:
    clock = FakeClock()
    target = FakeTarget(clock)
    signalled = {"now": False}
    clock.at(7.0, lambda: signalled.update(now=True))
    steps = canary.steps(percent=Decimal(10), interval=MINUTE, bake=timedelta(0))
    engine, _ = region(
        clock,
        [TargetRun("api", target, steps, ("errors",))],
        poll=30.0,
        interrupted=lambda: signalled["now"],
        abort_requested=lambda: signalled["now"],
    )

    result = engine.run()

    assert result.outcome is Outcome.ROLLED_BACK
    restored_at, restored = target.history[-1]
    assert restored == AliasRouting("1") and restored_at <= 7.0 + 0.1 + 1e-9


def test_drift_on_a_target_that_finished_first_is_found_before_calling_it_released() -> None:
    clock = FakeClock()
    fast, slow = FakeTarget(clock, name="api"), FakeTarget(clock, name="flow")
    clock.at(
        30.0, lambda: setattr(fast, "alias", AliasState("arn:fn:live", AliasRouting("1"), "x"))
    )
    runs = [
        TargetRun("api", fast, codedeploy.steps("AllAtOnce", bake=timedelta(0)), ("errors",)),
        TargetRun(
            "flow",
            slow,
            canary.steps(percent=Decimal(10), interval=MINUTE, bake=timedelta(0)),
            ("errors",),
        ),
    ]
    engine, log = region(clock, runs)

    result = engine.run()

    assert result.outcome is Outcome.NEEDS_HUMAN
    assert "drift_detected" in log.kinds()
    assert slow.alias is not None and slow.alias.routing == AliasRouting("1")  # put back
    assert result.serving["api"] == "1: 100%"  # what was found, not what rollout had set


def test_rolling_back_says_an_alias_the_rollout_created_was_kept() -> None:
    clock = FakeClock()
    created, existing = FakeTarget(clock, versions={}, alias=None), FakeTarget(clock)
    alarms = FakeAlarms({"errors": "OK"})
    clock.at(30.0, lambda: alarms.states_now.update(errors="ALARM"))
    steps = canary.steps(percent=Decimal(10), interval=MINUTE, bake=timedelta(0))
    runs = [
        TargetRun("new", created, steps, ("errors",)),
        TargetRun("api", existing, steps, ("errors",)),
    ]
    engine, _ = region(clock, runs, alarms)

    result = engine.run()

    assert result.outcome is Outcome.ROLLED_BACK
    assert existing.alias is not None and existing.alias.routing == AliasRouting("1")
    assert "the alias rollout created for new was kept" in result.message


def test_replacing_a_split_whose_larger_version_already_serves_the_release_moves_the_rest() -> None:
    clock = FakeClock()
    # 70% already on version 2, which holds this release's code; 30% still on 1.
    target = FakeTarget(clock, versions={"1": "v1-code", "2": "v2-code"})
    start = AliasRouting("1", (("2", Decimal(70)),))
    target.alias = AliasState("arn:fn:live", start, "r0")
    steps = linear.steps(percent=Decimal(25), interval=MINUTE, bake=timedelta(0))
    engine, _ = region(clock, [TargetRun("api", target, steps, ("errors",))], replace_split=True)

    result = engine.run()

    assert result.outcome is Outcome.SUCCEEDED
    assert target.alias.routing.shares() == {"2": Decimal(100)}
    assert list(target.versions) == ["1", "2"]  # nothing published
    # Only forward from its 70%: the 75% step, then 100%; never back to 25% or 50%.
    assert [float(r.weight_of("2")) for _, r in target.history] == [75.0, 100.0]


class LastSnapshots:
    """A journal keeping each target's last recorded snapshot, as a state store would."""

    def __init__(self) -> None:
        self.last: dict[str, TargetSnapshot] = {}

    def targets(self, region: str, snapshots: Mapping[str, TargetSnapshot]) -> None:
        self.last.update(snapshots)


def test_a_bake_under_way_is_recorded_with_the_wall_clock_time_it_ends() -> None:
    clock = FakeClock()
    journal = LastSnapshots()
    during: list[TargetSnapshot] = []
    clock.at(120.0, lambda: during.append(journal.last["api"]))
    steps = canary.steps(percent=Decimal(10), interval=5 * MINUTE, bake=timedelta(0))
    engine, _ = region(
        clock, [TargetRun("api", FakeTarget(clock), steps, ("errors",))], journal=journal
    )

    assert engine.run().outcome is Outcome.SUCCEEDED
    assert during[0].status is TargetStatus.SHIFTING
    assert during[0].bake_ends_at == START + 5 * MINUTE  # the canary's bake began at 0 s
    assert journal.last["api"].bake_ends_at is None  # done: no bake under way


def resumed_at_half_with_edited_steps(
    clock: FakeClock, pending: AliasRouting | None = None
) -> tuple[FakeTarget, RegionResult]:
    """Recorded at 50% (step 2 of a 50-then-100 canary), resumed with --force on steps 10, 20,
    30, 100: index 2 of those is "20%"."""
    target = FakeTarget(clock, versions={"1": "v1-code", "2": "v2-code"})
    at_half = AliasRouting("1", (("2", Decimal(50)),))
    target.alias = AliasState("arn:fn:live", at_half, "r1")
    recorded = TargetSnapshot(
        TargetStatus.SHIFTING,
        "arn:fn:live",
        AliasRouting("1"),
        at_half,
        pending=pending,
        old_version="1",
        new_version="2",
        new_version_arn="arn:fn:2",
        step=2,
    )
    items = [explicit.ExplicitStep(Decimal(w), pause=MINUTE) for w in (10, 20, 30, 100)]
    steps = explicit.steps(items, bake=timedelta(0))
    engine, _ = region(clock, [TargetRun("api", target, steps, ("errors",))])
    return target, engine.resume({"api": recorded})


def test_a_resume_with_edited_steps_never_moves_traffic_back_to_the_old_version() -> None:
    # Half the new version's traffic would go back to the old one at "20%": it carries on
    # from the 30% step's bake instead.
    clock = FakeClock()
    target, result = resumed_at_half_with_edited_steps(clock)

    assert result.outcome is Outcome.SUCCEEDED
    assert target.weights() == [(MINUTE.total_seconds(), 100.0)]  # a bake at 50%, then 100%


def test_a_resume_with_edited_steps_makes_a_move_to_100_in_doubt_again() -> None:
    clock = FakeClock()  # the move to 100% was sent, and never landed
    target, result = resumed_at_half_with_edited_steps(clock, pending=AliasRouting("2"))

    assert result.outcome is Outcome.SUCCEEDED
    assert target.alias is not None and target.alias.routing == AliasRouting("2")


def test_a_hook_cut_short_by_a_stop_gives_the_stop_as_the_reason() -> None:
    # A hook cancelled because a peer region failed (or a signal came) did not find a fault:
    # the region's reason is the stop's, not "hook failed".
    clock = FakeClock()
    stopped = {"now": False}

    class CutShort(FakeHooks):
        def run(self, hook: HookSpec, context: HookContext) -> HookOutcome:
            stopped["now"] = True
            return HookOutcome(False, "stopped: the rollout was interrupted")

    target = FakeTarget(clock)
    steps = canary.steps(percent=Decimal(10), interval=MINUTE, bake=timedelta(0))
    run = TargetRun("api", target, steps, ("errors",), before_traffic=PAUSE_HOOK)
    engine, _ = region(
        clock,
        [run],
        hooks=CutShort(),
        abort_requested=lambda: stopped["now"],
        abort_reason=lambda: "another region of its wave failed",
    )

    result = engine.run()
    assert result.outcome is Outcome.ROLLED_BACK
    assert result.message.startswith("another region of its wave failed (during before_traffic")
