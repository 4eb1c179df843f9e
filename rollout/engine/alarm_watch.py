"""Watching one region's alarms: the check before any change, then a read every tick.

One DescribeAlarms read per tick covers every target of the region; each
change of state becomes an event. A problem is returned as a sentence, and the
engine decides what it means at that point of the release.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from rollout.engine import events as ev
from rollout.engine.ports import AlarmReader, Clock

MISSING = "MISSING"
REASON_CHARS = 200  # CloudWatch's reasons run to 1023 characters; the first ones say why


@dataclass(frozen=True)
class AlarmPolicy:
    """How often alarms are read, and whether INSUFFICIENT_DATA fails the release."""

    poll_seconds: float
    insufficient_data_fails: bool = False


@dataclass
class AlarmWatch:
    """The watched alarms of one region and their last known states."""

    region: str
    names: Sequence[str]
    reader: AlarmReader
    policy: AlarmPolicy
    clock: Clock
    emit: ev.EventSink
    states: dict[str, str] = field(default_factory=dict)
    last_read: float = float("-inf")

    def failing(self, state: str) -> bool:
        """Whether an alarm in `state` stops the release."""
        return state == "ALARM" or (
            state == "INSUFFICIENT_DATA" and self.policy.insufficient_data_fails
        )

    def problem_before_start(self) -> str | None:
        """Why the release must not start (missing or firing alarms), or None."""
        if not self.names:
            return None
        states = dict(self.reader.states(self.names))
        self.emit(ev.AlarmsChecked(region=self.region, states=tuple(sorted(states.items()))))
        missing = [name for name in self.names if name not in states]
        if missing:
            return f"watched alarm(s) do not exist: {', '.join(missing)}"
        firing = [name for name in self.names if self.failing(states[name])]
        if firing:
            return f"refusing to start: alarm(s) {', '.join(f'{n} ({states[n]})' for n in firing)}"
        self.states = states
        return None

    def due(self) -> bool:
        """Whether a poll interval has passed since the last read."""
        return self.clock.monotonic() - self.last_read >= self.policy.poll_seconds

    def problem_now(self) -> str | None:
        """Read every watched alarm once; the alarms that stop the release, or None."""
        self.last_read = self.clock.monotonic()
        if not self.names:
            return None
        read = self.reader.states(self.names)
        for name in self.names:
            state = read.get(name, MISSING)
            previous = self.states.get(name)
            if state != previous:
                self.emit(
                    ev.AlarmChanged(region=self.region, alarm=name, previous=previous, state=state)
                )
                self.states[name] = state
        bad = [n for n in self.names if self.failing(self.states[n]) or self.states[n] == MISSING]
        return f"alarm {', '.join(self._said(n) for n in bad)}" if bad else None

    def _said(self, name: str) -> str:
        """`api-errors (ALARM: Threshold Crossed: 1 datapoint [5.0] ...)`: the state and why."""
        reason = " ".join(self.reader.reason(name).split())
        if len(reason) > REASON_CHARS:
            reason = reason[: REASON_CHARS - 1] + "…"
        return f"{name} ({self.states[name]}{': ' + reason if reason else ''})"
