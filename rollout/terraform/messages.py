"""Terraform's `-json` lines as typed messages; the ones rollout has no use for are None.

The format is Terraform's machine-readable UI (ui 1.0 and later): one object a
line, with `type` saying what it is. Lines that are not JSON (`init` prints some
plain text even with `-json`) are skipped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PlannedChange:
    """A resource the plan would change."""

    address: str
    action: str  # create, update, replace, delete, read, …


@dataclass(frozen=True)
class ChangeSummary:
    """The counts of a plan or an apply."""

    add: int
    change: int
    destroy: int
    operation: str  # plan, apply

    def describe(self) -> str:
        return f"{self.add} to add, {self.change} to change, {self.destroy} to destroy"


@dataclass(frozen=True)
class ResourceProgress:
    """A resource being applied: started, still going, complete or errored."""

    address: str
    action: str
    status: str  # started, progress, complete, errored
    elapsed_seconds: float | None


@dataclass(frozen=True)
class Diagnostic:
    """An error or warning, with where in the configuration it comes from when known."""

    severity: str  # error, warning
    summary: str
    detail: str
    filename: str | None = None
    line: int | None = None
    address: str | None = None

    def describe(self) -> str:
        where = f"{self.filename}:{self.line}: " if self.filename and self.line else ""
        about = f" ({self.address})" if self.address else ""
        detail = " ".join(self.detail.split())
        return f"{where}{self.summary}{about}" + (f": {detail}" if detail else "")


@dataclass(frozen=True)
class DeclaredOutputs:
    """The outputs a plan or apply names, and which of them are sensitive."""

    sensitive: dict[str, bool]


Message = PlannedChange | ChangeSummary | ResourceProgress | Diagnostic | DeclaredOutputs

_PROGRESS = {
    "apply_start": "started",
    "apply_progress": "progress",
    "apply_complete": "complete",
    "apply_errored": "errored",
}


def parse_line(line: str) -> Message | None:
    """The message of one line of `terraform … -json`, or None."""
    if not line.startswith("{"):
        return None
    try:
        data = json.loads(line)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    kind = data.get("type")
    try:
        return _message(kind, data)
    except (KeyError, TypeError, ValueError):  # a shape this version does not write
        return None


def _message(kind: Any, data: dict[str, Any]) -> Message | None:
    if kind == "planned_change":
        change = data["change"]
        return PlannedChange(str(change["resource"]["addr"]), str(change["action"]))
    if kind == "change_summary":
        changes = data["changes"]
        return ChangeSummary(
            int(changes["add"]),
            int(changes["change"]),
            int(changes["remove"]),
            str(changes.get("operation", "")),
        )
    if kind in _PROGRESS:
        hook = data["hook"]
        elapsed = hook.get("elapsed_seconds")
        return ResourceProgress(
            str(hook["resource"]["addr"]),
            str(hook.get("action", "")),
            _PROGRESS[kind],
            None if elapsed is None else float(elapsed),
        )
    if kind == "diagnostic":
        diagnostic = data["diagnostic"]
        where = diagnostic.get("range") or {}
        return Diagnostic(
            severity=str(diagnostic.get("severity", "error")),
            summary=str(diagnostic.get("summary", "")),
            detail=str(diagnostic.get("detail", "")),
            filename=where.get("filename"),
            line=(where.get("start") or {}).get("line"),
            address=diagnostic.get("address"),
        )
    if kind == "outputs":
        outputs = data["outputs"]
        return DeclaredOutputs({str(k): bool(v.get("sensitive")) for k, v in outputs.items()})
    return None
