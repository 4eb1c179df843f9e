"""`rollout history`: one row per past rollout of the plan's name, with its final outcome.

A rollout that `rollout rollback` undid later is in the history twice (as it
ended, then as it was rolled back); it is shown once, with the later outcome.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from rollout.commands.context import CommandContext
from rollout.commands.result import CommandResult, iso_time
from rollout.exitcodes import ExitCode
from rollout.plan.durations import format_duration
from rollout.state.model import RolloutRecord, RolloutStatus, TargetRecord

_FINE = (RolloutStatus.SUCCEEDED, RolloutStatus.NOTHING_TO_DO)
COLUMNS = ("STARTED (UTC)", "ROLLOUT", "OUTCOME", "DURATION", "VERSIONS", "BY", "REASON")


@dataclass(frozen=True)
class VersionChange:
    """One target in one region: the version it served before and the one it released."""

    region: str
    target: str
    old: str | None
    new: str | None  # None: nothing was published (unchanged, or stopped before)


@dataclass(frozen=True)
class HistoryRow:
    """One rollout as `history` lists it."""

    record: RolloutRecord
    versions: tuple[VersionChange, ...]
    reason: str

    @property
    def duration_seconds(self) -> float | None:
        finished = self.record.finished_at
        return (finished - self.record.started_at).total_seconds() if finished else None

    def as_json(self) -> dict[str, object]:
        """The row for scripts."""
        record = self.record
        return {
            "rollout": record.id,
            "started_at": iso_time(record.started_at),
            "finished_at": iso_time(record.finished_at),
            "duration_seconds": self.duration_seconds,
            "started_by": record.started_by.model_dump() if record.started_by else None,
            "outcome": record.status.value,
            "versions": [change.__dict__ for change in self.versions],
            "reason": self.reason,
        }

    def cells(self) -> tuple[str, ...]:
        """The row for people, one cell per column of COLUMNS."""
        record, seconds = self.record, self.duration_seconds
        return (
            f"{record.started_at:%Y-%m-%d %H:%M:%S}",
            record.id,
            record.status.value,
            format_duration(timedelta(seconds=round(seconds))) if seconds is not None else "-",
            describe_versions(self.versions) or "-",
            record.started_by.describe() if record.started_by else "?",
            self.reason or "-",
        )


def history(context: CommandContext, *, limit: int | None = None) -> CommandResult:
    """Past rollouts of the plan's name, oldest first; with `limit`, the latest `limit`."""
    rows = [row_of(record) for record in one_per_rollout(context.store().history(context.name))]
    if limit is not None:
        rows = rows[-limit:] if limit > 0 else []
    lines = render_table(rows) if rows else ["no rollouts recorded"]
    return CommandResult(ExitCode.OK, tuple(lines), {"rollouts": [row.as_json() for row in rows]})


def one_per_rollout(records: Sequence[RolloutRecord]) -> list[RolloutRecord]:
    """Each rollout once, where it first appears, as it was last recorded."""
    latest: dict[str, RolloutRecord] = {}
    for record in records:
        latest[record.id] = record  # dicts keep the first insertion's place
    return list(latest.values())


def row_of(record: RolloutRecord) -> HistoryRow:
    """What the record says about who, what and why."""
    versions = tuple(
        _change(region, name, target)
        for region, stored in record.regions.items()
        for name, target in stored.targets.items()
    )
    return HistoryRow(record, versions, _reason(record))


def _change(region: str, target: str, stored: TargetRecord) -> VersionChange:
    before = stored.old_version or (stored.initial.version if stored.initial else None)
    if before is None and stored.new_version is None and stored.last is not None:
        before = stored.last.version  # unchanged: it served this release already
    return VersionChange(region, target, _number(before), _number(stored.new_version))


def _number(version: str | None) -> str | None:
    return version.rsplit(":", 1)[-1] if version else None  # Step Functions: the ARN's end


def _reason(record: RolloutRecord) -> str:
    """Why a rollout did not simply succeed: each region's own message."""
    return "; ".join(
        f"{region}: {stored.message}" if stored.message else f"{region}: {stored.status.value}"
        for region, stored in record.regions.items()
        if stored.status not in _FINE
    )


def describe_versions(changes: Sequence[VersionChange]) -> str:
    """`api 7 → 8, flow 3 → 4`; a target whose regions moved differently names each region."""
    by_target: dict[str, list[VersionChange]] = {}
    for change in changes:
        by_target.setdefault(change.target, []).append(change)
    parts = []
    for target, moves in by_target.items():
        texts = [_move(change) for change in moves]
        if len(set(texts)) == 1:
            parts.append(f"{target} {texts[0]}")
        else:
            each = ", ".join(f"{t} ({c.region})" for t, c in zip(texts, moves, strict=True))
            parts.append(f"{target} {each}")
    return ", ".join(parts)


def _move(change: VersionChange) -> str:
    if change.new is None:
        return f"{change.old or '?'} (unchanged)"
    return f"{change.old or 'new'} → {change.new}"


def render_table(rows: Sequence[HistoryRow]) -> list[str]:
    """A plain text table, columns padded to their widest cell; the last one is not padded."""
    table = [COLUMNS, *(row.cells() for row in rows)]
    widths = [max(len(cells[i]) for cells in table) for i in range(len(COLUMNS) - 1)]
    return [
        "  ".join([*(cell.ljust(w) for cell, w in zip(cells, widths, strict=False)), cells[-1]])
        for cells in table
    ]
