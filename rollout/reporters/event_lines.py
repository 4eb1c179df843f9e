"""Events as plain timestamped lines, for logs and terminals without the live view."""

from __future__ import annotations

from collections.abc import Callable

from rollout.engine import events as ev


def describe_event(event: ev.Event) -> str:
    """What happened, in words."""
    describe = _DESCRIBERS.get(type(event))
    return describe(event) if describe else event.kind


_DESCRIBERS: dict[type[ev.Event], Callable[[ev.Event], str]] = {}


def _describes(kind: type[ev.Event]) -> Callable[[Callable[[ev.Event], str]], None]:
    def register(function: Callable[[ev.Event], str]) -> None:
        _DESCRIBERS[kind] = function

    return register


@_describes(ev.RolloutStarted)
def _(e: ev.Event) -> str:
    assert isinstance(e, ev.RolloutStarted)
    waves = " then ".join("[" + ", ".join(w) + "]" for w in e.waves)
    return f"rollout {e.plan!r} started: {waves}"


@_describes(ev.RegionStarted)
def _(e: ev.Event) -> str:
    return "region started"


@_describes(ev.AlarmsChecked)
def _(e: ev.Event) -> str:
    assert isinstance(e, ev.AlarmsChecked)
    return "alarms: " + ", ".join(f"{name} {state}" for name, state in e.states)


@_describes(ev.VersionPublished)
def _(e: ev.Event) -> str:
    assert isinstance(e, ev.VersionPublished)
    return f"published version {e.version.rsplit(':', 1)[-1]} ({e.summary})"


@_describes(ev.NothingToPublish)
def _(e: ev.Event) -> str:
    assert isinstance(e, ev.NothingToPublish)
    return f"nothing to publish: {e.summary}"


@_describes(ev.AliasCreated)
def _(e: ev.Event) -> str:
    assert isinstance(e, ev.AliasCreated)
    return f"created alias {e.arn} at version {e.version.rsplit(':', 1)[-1]}"


@_describes(ev.WeightShifted)
def _(e: ev.Event) -> str:
    assert isinstance(e, ev.WeightShifted)
    return f"shifted to {e.weight:g}% ({e.routing})"


@_describes(ev.BakeStarted)
def _(e: ev.Event) -> str:
    assert isinstance(e, ev.BakeStarted)
    return f"watching alarms for {e.seconds:g}s"


@_describes(ev.PauseStarted)
def _(e: ev.Event) -> str:
    return "paused: waiting for `rollout promote`"


@_describes(ev.AlarmChanged)
def _(e: ev.Event) -> str:
    assert isinstance(e, ev.AlarmChanged)
    return f"alarm {e.alarm}: {e.previous or 'unknown'} -> {e.state}"


@_describes(ev.HookFinished)
def _(e: ev.Event) -> str:
    assert isinstance(e, ev.HookFinished)
    verdict = "passed" if e.passed else "FAILED"
    return f"{e.phase} hook {e.hook} {verdict}: {e.detail}"


@_describes(ev.DriftDetected)
def _(e: ev.Event) -> str:
    assert isinstance(e, ev.DriftDetected)
    return f"DRIFT: expected {e.expected}, found {e.found}"


@_describes(ev.RollbackStarted)
def _(e: ev.Event) -> str:
    assert isinstance(e, ev.RollbackStarted)
    return f"rolling back: {e.reason}"


@_describes(ev.AliasRestored)
def _(e: ev.Event) -> str:
    assert isinstance(e, ev.AliasRestored)
    return f"restored alias to {e.routing}"


@_describes(ev.RollbackFailed)
def _(e: ev.Event) -> str:
    assert isinstance(e, ev.RollbackFailed)
    return f"ROLLBACK FAILED: {e.error}"


@_describes(ev.RegionFinished)
def _(e: ev.Event) -> str:
    assert isinstance(e, ev.RegionFinished)
    return f"region {e.outcome.replace('_', ' ')}: {e.message}"


@_describes(ev.RolloutFinished)
def _(e: ev.Event) -> str:
    assert isinstance(e, ev.RolloutFinished)
    return f"rollout {e.outcome.replace('_', ' ')} (exit {e.exit_code}): {e.message}"


def format_line(event: ev.Event) -> str:
    """`2026-11-26T20:10:00Z us-east-1 api: shifted to 10% (1: 90%, 2: 10%)`."""
    stamp = event.at.strftime("%Y-%m-%dT%H:%M:%SZ")
    where = " ".join(part for part in (event.region, event.target) if part)
    prefix = f"{stamp} {where}: " if where else f"{stamp} "
    return prefix + describe_event(event)


class LineReporter:
    """Writes one line per event."""

    def __init__(self, write: Callable[[str], None]) -> None:
        self.write = write

    def __call__(self, event: ev.Event) -> None:
        self.write(format_line(event))
