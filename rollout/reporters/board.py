"""Where every region x target stands, folded from the event stream.

The live view draws it, the heartbeat reads it during long waits, and both
print its final summary; it knows events only, never AWS.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from rollout.engine import events as ev

_STAGE_ROWS = ("terraform", "nginx")
_ENDED = {
    "succeeded": "done",
    "nothing_to_do": "nothing to do",
    "skipped": "skipped",
    "failed_before_traffic": "failed",
    "rolled_back": "rolled back",
    "needs_human": "needs a human",
}


@dataclass
class Row:
    """One region x target (or a region's terraform or nginx stage) as it stands now."""

    region: str
    target: str  # a target's name, "terraform", "nginx", or "" before the region starts
    stage: str = "waiting"
    old: int | None = None
    new: int | None = None
    weight: float | None = None
    step: tuple[int, int] | None = None
    bake_ends: datetime | None = None
    final_bake: bool = False
    hook: str | None = None
    reason: str | None = None
    outcome: str | None = None
    started: datetime | None = None
    finished: datetime | None = None

    @property
    def is_target(self) -> bool:
        return self.target not in ("", *_STAGE_ROWS)

    @property
    def waiting(self) -> bool:
        """Started and not ended: what a heartbeat reports on."""
        return self.started is not None and self.outcome is None

    def versions(self) -> str:
        """`7 → 8`, or what is known of it."""
        if self.old is None and self.new is None:
            return ""
        old, new = ("?" if v is None else str(v) for v in (self.old, self.new))
        return f"{old} → {new}"

    def duration(self) -> str:
        if self.started is None:
            return ""
        return format_left((self.finished or self.started) - self.started, exact=True)


@dataclass
class Board:
    """Rows in the order they first appeared, and each region's watched alarms."""

    rows: dict[tuple[str, str], Row] = field(default_factory=dict)
    alarms: dict[str, dict[str, str]] = field(default_factory=dict)
    finished: ev.RolloutFinished | None = None

    def row(self, region: str, target: str, at: datetime | None = None) -> Row:
        """The row of `region` x `target`, created (replacing the region's placeholder) when new."""
        key = (region, target)
        if key not in self.rows:
            self._insert(Row(region, target))
        row = self.rows[key]
        if row.started is None and at is not None and target:
            row.started = at
        return row

    def _insert(self, new: Row) -> None:
        """Add a row after its region's others (in its placeholder's place), keeping plan order."""
        keys = list(self.rows)
        mine = [index for index, (name, _) in enumerate(keys) if name == new.region]
        at = mine[-1] + 1 if mine else len(keys)
        rows = [(key, self.rows[key]) for key in keys]
        rows.insert(at, ((new.region, new.target), new))
        placeholder = self.rows.get((new.region, ""))
        if placeholder is not None and new.target:
            new.started = placeholder.started
            rows = [(key, row) for key, row in rows if row is not placeholder]
        self.rows = dict(rows)

    def region_rows(self, region: str) -> list[Row]:
        return [row for (name, _), row in self.rows.items() if name == region]

    def alarm_text(self, region: str) -> str:
        """`OK`, or each alarm that is not: `api-errors ALARM`."""
        states = self.alarms.get(region, {})
        if not states:
            return ""
        bad = [f"{name} {state}" for name, state in sorted(states.items()) if state != "OK"]
        return ", ".join(bad) if bad else "OK"

    def apply(self, event: ev.Event) -> None:  # noqa: PLR0912 (one case per event kind)
        """Fold one event into the rows."""
        region, target, at = event.region, event.target, event.at
        match event:
            case ev.RolloutStarted(waves=waves):
                for wave in waves:
                    for name in wave:
                        if not self.region_rows(name):
                            self.rows[(name, "")] = Row(name, "")
            case ev.RegionStarted(region=str(region)):
                for row in self.region_rows(region):
                    row.started = row.started or at
            case ev.AlarmsChecked(region=str(region), states=states):
                self.alarms[region] = dict(states)
            case ev.AlarmChanged(region=str(region), alarm=alarm, state=state):
                self.alarms.setdefault(region, {})[alarm] = state
            case ev.RollbackStarted(region=str(region), reason=reason):
                for row in self.region_rows(region):
                    if row.is_target and row.outcome is None:
                        row.stage, row.reason, row.bake_ends, row.hook = (
                            "rolling back",
                            reason,
                            None,
                            None,
                        )
            case ev.RegionFinished(region=str(region), outcome=outcome, message=message):
                self._region_finished(region, outcome, message, at)
            case ev.RolloutFinished():
                self.finished = event
            case _ if region and target:
                self._target_event(self.row(region, target, at), event)
            case _ if region:
                self._stage_event(event, region, at)

    def _target_event(self, row: Row, event: ev.Event) -> None:  # noqa: PLR0912
        match event:
            case ev.VersionPublished(version=version, previous=previous):
                row.stage, row.new = "published", version
                row.old = previous if previous is not None else row.old
            case ev.NothingToPublish():
                row.stage = "nothing to publish"
            case ev.AliasCreated(version=version):
                row.stage, row.new = "alias created", version
            case ev.WeightShifted(weight=weight, routing=routing, step=step, steps=steps):
                row.stage, row.weight, row.step = "shifting", weight, (step, steps)
                row.bake_ends = None
                if len(routing) == 2:  # the alias's own version first, the new one second
                    row.old, row.new = row.old or routing[0].version, routing[1].version
                elif weight >= 100 and routing:
                    row.new = routing[0].version
            case ev.BakeStarted(seconds=seconds, final=final):
                row.stage, row.final_bake = "baking", final
                row.bake_ends = event.at + timedelta(seconds=seconds)
            case ev.PauseStarted():
                row.stage, row.bake_ends = "paused", None
            case ev.HookStarted(phase=phase, hook=hook):
                row.stage, row.hook = "hook", f"{phase} {hook}"
            case ev.HookFinished(phase=phase, passed=passed, detail=detail):
                row.hook = None
                if not passed:
                    row.reason = f"{phase} hook failed: {detail}"
            case ev.DriftDetected(expected=expected, found=found):
                row.stage, row.reason = "drift", f"drift: expected {expected}, found {found}"
            case ev.AliasRestored(routing=routing):
                row.stage, row.weight, row.bake_ends = "rolled back", 0.0, None
                if routing and row.old is None:
                    row.old = routing[0].version
            case ev.RollbackFailed(error=error):
                row.stage, row.reason = "rollback failed", error

    def _stage_event(self, event: ev.Event, region: str, at: datetime) -> None:
        match event:
            case ev.TerraformPlanned(add=add, change=change, destroy=destroy):
                self.row(region, "terraform", at).stage = f"terraform: +{add} ~{change} -{destroy}"
            case ev.TerraformResource(address=address, status="started"):
                self.row(region, "terraform", at).stage = f"applying {address}"
            case ev.TerraformDiagnostic(severity="error", summary=summary):
                self.row(region, "terraform", at).reason = f"terraform: {summary}"
            case ev.TerraformApplied(add=add, change=change, destroy=destroy):
                row = self.row(region, "terraform", at)
                row.stage, row.outcome, row.finished = "applied", "succeeded", at
                row.reason = f"{add} added, {change} changed, {destroy} destroyed"
            case ev.NginxRendered(changed=changed, domains=domains):
                row = self.row(region, "nginx", at)
                row.stage = f"{'written' if changed else 'unchanged'}, {domains} domain(s)"
            case ev.NginxReloaded(passed=passed, detail=detail):
                row = self.row(region, "nginx", at)
                row.stage = "reloaded" if passed else "reload failed"
                if not passed:
                    row.reason = detail

    def _region_finished(self, region: str, outcome: str, message: str, at: datetime) -> None:
        rows = self.region_rows(region) or [self.row(region, "")]
        for row in rows:
            if row.outcome is not None and not row.is_target:
                continue  # terraform that applied stays applied: rollout never undoes it
            if row.target == "nginx" and outcome in ("rolled_back", "succeeded"):
                row.outcome, row.stage = "succeeded", "done"
            else:
                row.outcome, row.stage = outcome, _ENDED.get(outcome, outcome.replace("_", " "))
            row.finished, row.bake_ends, row.hook = at, None, None
            if outcome not in ("succeeded", "nothing_to_do") and row.target != "nginx":
                row.reason = row.reason or message
            if row.is_target and outcome == "rolled_back":
                row.reason = message


def format_left(value: timedelta, *, exact: bool = False) -> str:
    """`3m20s`, `45s`, `1h02m`; a countdown rounds up so it never shows 0s while waiting."""
    seconds = value.total_seconds()
    whole = max(0, round(seconds) if exact else math.ceil(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def waiting_parts(board: Board, row: Row, now: datetime) -> list[str]:
    """What a row waits on, in short parts: `10%`, `step 1/3`, `bake 3m20s left`, `alarms OK`."""
    parts: list[str] = []
    if row.weight is not None:
        parts.append(f"{row.weight:g}%")
    if row.step is not None:
        parts.append(f"step {row.step[0]}/{row.step[1]}")
    if row.hook is not None:
        parts.append(f"hook {row.hook} running")
    elif row.stage == "paused":
        parts.append("paused · run `rollout promote`")
    elif row.bake_ends is not None:
        which = "final bake" if row.final_bake else "bake"
        parts.append(f"{which} {format_left(row.bake_ends - now)} left")
    else:
        parts.append(row.stage)
    alarms = board.alarm_text(row.region) if row.is_target else ""
    if alarms:
        parts.append(f"alarms {alarms}")
    return parts


@dataclass(frozen=True)
class SummaryRow:
    """One line of the final table."""

    region: str
    target: str
    versions: str
    outcome: str
    duration: str
    reason: str


def summary_rows(board: Board) -> list[SummaryRow]:
    """The final table: region, target, old → new, outcome, duration, reason."""
    return [
        SummaryRow(
            row.region,
            row.target or "-",
            row.versions() or "-",
            (row.outcome or "unfinished").replace("_", " "),
            row.duration() or "-",
            " ".join((row.reason or "").split()),
        )
        for row in board.rows.values()
    ]
