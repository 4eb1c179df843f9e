"""What a command returns for the CLI to render: kept apart from the builders, so a command
that needs no AWS (`nginx render`) does not load boto3 to say what it did."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from rollout.exitcodes import ExitCode

if TYPE_CHECKING:
    from rollout.engine.waves import RolloutResult

__all__ = ["CommandResult", "iso_time", "ran", "said"]


@dataclass(frozen=True)
class CommandResult:
    """What a command tells its user: lines for people, facts for scripts, and the exit code."""

    exit_code: ExitCode
    lines: tuple[str, ...] = ()
    facts: dict[str, Any] = field(default_factory=dict)
    rollout: RolloutResult | None = None  # set when the command ran a rollout (events said it)


def ran(result: RolloutResult) -> CommandResult:
    """The result of a command that ran a rollout: its events already told everything."""
    return CommandResult(result.exit_code, rollout=result)


def said(exit_code: ExitCode, *lines: str, **facts: Any) -> CommandResult:
    """A result that is a few lines (and the same as facts for scripts)."""
    return CommandResult(exit_code, lines, facts)


def iso_time(value: datetime | None) -> str | None:
    """A time as scripts read it: ISO 8601 in UTC, `2026-11-26T12:00:00Z` (the events' form)."""
    if value is None:
        return None
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
