"""What a stage of a region's pipeline is: a preview for `plan`, a run for `apply` and `resume`.

Stages run in order (terraform, nginx, traffic); each reads the region's scope
and may hand a larger one to the next.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from rollout.engine.outcome import RegionResult
from rollout.pipeline.scope import RegionScope


class StagePreview(Protocol):
    """What a stage would do in one region, read without changing anything."""

    @property
    def problems(self) -> tuple[str, ...]:
        """What would stop the release; empty when it may go ahead."""
        ...

    @property
    def changes_pending(self) -> bool:
        """Whether the stage would change anything."""
        ...


@dataclass(frozen=True)
class StageRun:
    """How a stage ended, and the scope the next stage reads."""

    result: RegionResult
    scope: RegionScope


class Stage(Protocol):
    """One step of a region's release."""

    name: str

    def preview(self, scope: RegionScope) -> StagePreview:
        """Read what the stage would do; change nothing."""
        ...

    def run(self, scope: RegionScope) -> StageRun:
        """Do it (or carry on from the record); never raises for failures it can name."""
        ...

    def roll_back(self, reason: str) -> RegionResult | None:
        """Undo what the record says this stage did; None when it undoes nothing."""
        ...
