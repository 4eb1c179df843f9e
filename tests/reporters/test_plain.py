"""Plain lines as a CI log shows them: events, heartbeats during long waits, the summary table.

The reporter is driven with a fake clock and a recorded sequence of events;
the lines are compared with a golden file (ROLLOUT_UPDATE_GOLDEN=1 rewrites it).
"""

from __future__ import annotations

import os
import re
import threading
from datetime import datetime, timezone
from pathlib import Path

from rollout.engine import events as ev
from rollout.engine.waves import stamped_sink
from rollout.reporters.plain import PlainReporter
from tests.engine.fakes import FakeClock

GOLDEN = Path(__file__).parent / "golden"
START = datetime(2026, 1, 1, tzinfo=timezone.utc)
STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def relative(line: str) -> str:
    """Timestamps as seconds since the start, so the golden file reads as a timeline."""

    def offset(match: re.Match[str]) -> str:
        when = datetime.strptime(match.group(0), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        return f"+{int((when - START).total_seconds())}s"

    return STAMP.sub(offset, line)


def shares(*parts: tuple[int, float]) -> tuple[ev.Share, ...]:
    return tuple(ev.Share(version, weight) for version, weight in parts)


def a_canary_that_an_alarm_rolls_back(clock: FakeClock, report: PlainReporter) -> None:
    """Two targets and terraform in one region: a canary bakes, a steps target pauses, an alarm
    fires, everything rolls back; the heartbeat is asked to beat every 10 seconds of it."""
    emit = stamped_sink(report, clock, "r-1")

    def wait(seconds: float) -> None:
        for _ in range(int(seconds // 10)):
            clock.sleep(10)
            report.beat()

    region = "us-east-1"
    emit(ev.RolloutStarted(plan="orders", waves=(("us-east-1",), ("eu-west-1",))))
    emit(ev.RegionStarted(region=region))
    emit(ev.TerraformPlanned(region=region, add=1, change=0, destroy=0, resources=()))
    emit(ev.TerraformResource(region=region, address="null_resource.x", action="create",
                              status="started", elapsed_seconds=None))  # fmt: skip
    wait(40)  # terraform still applying: the heartbeat says so
    emit(ev.TerraformApplied(region=region, add=1, change=0, destroy=0))
    emit(ev.AlarmsChecked(region=region, states=(("api-errors", "OK"), ("flow-failures", "OK"))))
    emit(ev.VersionPublished(region=region, target="api", version=8, arn="arn:fn:8",
                             summary="zip", previous=7))  # fmt: skip
    emit(ev.HookStarted(region=region, target="api", phase="before_traffic", hook="lambda smoke"))
    wait(30)
    emit(ev.HookFinished(region=region, target="api", phase="before_traffic",
                         hook="lambda smoke", passed=True, detail="ok"))  # fmt: skip
    emit(ev.WeightShifted(region=region, target="api", weight=10.0,
                          routing=shares((7, 90.0), (8, 10.0)), step=1, steps=3))  # fmt: skip
    emit(ev.BakeStarted(region=region, target="api", seconds=300.0, final=False))
    emit(ev.VersionPublished(region=region, target="flow", version=3, arn="arn:sm:3", summary="d"))
    emit(ev.WeightShifted(region=region, target="flow", weight=5.0,
                          routing=shares((2, 95.0), (3, 5.0)), step=1, steps=2))  # fmt: skip
    emit(ev.PauseStarted(region=region, target="flow"))
    wait(70)  # two heartbeats: after 30 silent seconds, and 30 after that
    emit(ev.AlarmChanged(region=region, alarm="api-errors", previous="OK", state="ALARM"))
    emit(ev.RollbackStarted(region=region, reason="alarm api-errors is ALARM: 5 errors"))
    emit(ev.AliasRestored(region=region, target="api", routing=shares((7, 100.0))))
    emit(ev.AliasRestored(region=region, target="flow", routing=shares((2, 100.0))))
    emit(ev.RegionFinished(region=region, outcome="rolled_back",
                           message="alarm api-errors is ALARM: 5 errors"))  # fmt: skip
    emit(ev.RegionFinished(region="eu-west-1", outcome="skipped",
                           message="not started: an earlier wave failed"))  # fmt: skip
    emit(ev.RolloutFinished(outcome="rolled_back", exit_code=3,
                            message="us-east-1 rolled back"))  # fmt: skip
    wait(60)  # nothing waits any more: no heartbeat


def test_plain_lines_heartbeats_and_summary_match_the_golden_file() -> None:
    clock, lines = FakeClock(), []
    report = PlainReporter(lines.append, clock, heartbeat=30)

    a_canary_that_an_alarm_rolls_back(clock, report)
    report.close()

    text = "\n".join(relative(line) for line in lines) + "\n"
    golden = GOLDEN / "plain-rolled-back.txt"
    if os.environ.get("ROLLOUT_UPDATE_GOLDEN"):
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")
    assert "\x1b" not in text


def test_heartbeat_zero_never_beats_and_colour_is_only_painted_when_asked() -> None:
    clock, lines = FakeClock(), []
    report = PlainReporter(lines.append, clock, heartbeat=0)

    a_canary_that_an_alarm_rolls_back(clock, report)

    assert not any(" · " in line for line in lines)
    assert "\x1b" not in "".join(lines)

    painted: list[str] = []
    colourful = PlainReporter(painted.append, FakeClock(), paint=lambda t, s: f"<{s}>{t}")
    colourful(ev.RollbackStarted(region="us-east-1", reason="alarm"))
    assert painted == ["<red>1970-01-01T00:00:00Z us-east-1: rolling back: alarm"]


def test_heartbeat_thread_beats_until_closed() -> None:
    clock, lines = FakeClock(), []
    report = PlainReporter(lines.append, clock, heartbeat=30)
    ticks = 3
    idle, stopped = threading.Event(), threading.Event()

    def wait(_seconds: float) -> bool:
        # The test's own pace instead of real seconds: each tick moves the fake clock 30 s.
        nonlocal ticks
        if ticks:
            ticks -= 1
            clock.sleep(30)
            return False
        idle.set()
        stopped.wait()
        return True

    emit = stamped_sink(report, clock)
    emit(ev.RegionStarted(region="us-east-1"))
    emit(ev.WeightShifted(region="us-east-1", target="api", weight=50.0,
                          routing=shares((1, 50.0), (2, 50.0)), step=1, steps=2))  # fmt: skip
    emit(ev.BakeStarted(region="us-east-1", target="api", seconds=120.0, final=False))
    report.start(wait)
    assert idle.wait(5)
    stopped.set()
    report.close()
    beats = [line for line in lines if "bake" in line and "left" in line]
    written = len(lines)

    assert len(beats) == 3, lines
    assert beats[0].endswith("us-east-1 api: 50% · step 1/2 · bake 1m30s left")
    assert beats[-1].endswith("us-east-1 api: 50% · step 1/2 · bake 30s left")
    report.beat()  # closed: the summary was the last word
    assert len(lines) == written


def test_each_rollout_of_one_run_gets_its_own_summary() -> None:
    clock, lines = FakeClock(), []
    report = PlainReporter(lines.append, clock, heartbeat=0)
    emit = stamped_sink(report, clock, "r-1")
    for target, version in (("api", 2), ("flow", 3)):
        emit(ev.RolloutStarted(plan="demo", waves=(("us-east-1",),)))
        published = ev.VersionPublished(
            region="us-east-1", target=target, version=version, arn="arn", summary="zip"
        )
        emit(published)
        emit(ev.RegionFinished(region="us-east-1", outcome="succeeded", message="released"))
        emit(ev.RolloutFinished(outcome="succeeded", exit_code=0, message="1 succeeded"))
    report.close()

    assert lines.count("summary:") == 2
    rows = [line.split() for line in lines if line.startswith("  us-east-1")]
    assert [row[1] for row in rows] == ["api", "flow"]  # one row in each table, its own
