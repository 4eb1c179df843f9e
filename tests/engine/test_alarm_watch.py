"""Alarm watching on its own: what stops a start, what stops a release, and the events it emits."""

from __future__ import annotations

from rollout.engine.alarm_watch import AlarmPolicy, AlarmWatch
from tests.engine.fakes import EventLog, FakeAlarms, FakeClock


def watch(states: dict[str, str], *, strict: bool = False) -> tuple[AlarmWatch, EventLog]:
    log = EventLog()
    policy = AlarmPolicy(poll_seconds=10, insufficient_data_fails=strict)
    names = ["errors", "latency"]
    return AlarmWatch("us-east-1", names, FakeAlarms(states), policy, FakeClock(), log), log


def test_all_ok_starts_and_keeps_going_with_one_event_per_change() -> None:
    alarms, log = watch({"errors": "OK", "latency": "OK"})
    assert alarms.problem_before_start() is None
    assert alarms.problem_now() is None
    assert log.kinds() == ["alarms_checked"]


def test_a_missing_alarm_refuses_the_start() -> None:
    alarms, _ = watch({"errors": "OK"})
    assert alarms.problem_before_start() == "watched alarm(s) do not exist: latency"


def test_insufficient_data_counts_only_under_the_strict_policy() -> None:
    relaxed, _ = watch({"errors": "OK", "latency": "INSUFFICIENT_DATA"})
    strict, _ = watch({"errors": "OK", "latency": "INSUFFICIENT_DATA"}, strict=True)
    assert relaxed.problem_before_start() is None
    assert (
        strict.problem_before_start() == "refusing to start: alarm(s) latency (INSUFFICIENT_DATA)"
    )


def test_an_alarm_that_fires_or_vanishes_stops_the_release() -> None:
    alarms, log = watch({"errors": "OK", "latency": "OK"})
    alarms.problem_before_start()
    reader = alarms.reader
    assert isinstance(reader, FakeAlarms)
    reader.states_now = {"errors": "ALARM"}
    assert alarms.problem_now() == "alarm errors (ALARM), latency (MISSING)"
    assert log.kinds() == ["alarms_checked", "alarm_changed", "alarm_changed"]
