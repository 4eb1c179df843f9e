"""How a region or a whole rollout ended, and the exit code each ending maps to."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from rollout.engine.ports import PublishedVersion
from rollout.exitcodes import ExitCode


class Outcome(Enum):
    """Endings, from best to worst; the worst region decides the rollout's."""

    NOTHING_TO_DO = "nothing_to_do"
    SUCCEEDED = "succeeded"
    SKIPPED = "skipped"  # a region of a later wave, not started because an earlier one failed
    FAILED_BEFORE_TRAFFIC = "failed_before_traffic"
    ROLLED_BACK = "rolled_back"
    NEEDS_HUMAN = "needs_human"

    @property
    def exit_code(self) -> ExitCode:
        return _EXIT_CODES[self]

    @property
    def fine(self) -> bool:
        """The region ended where the release wanted it."""
        return self in (Outcome.SUCCEEDED, Outcome.NOTHING_TO_DO)


_EXIT_CODES = {
    Outcome.NOTHING_TO_DO: ExitCode.OK,
    Outcome.SUCCEEDED: ExitCode.OK,
    Outcome.SKIPPED: ExitCode.ERROR,
    Outcome.FAILED_BEFORE_TRAFFIC: ExitCode.ERROR,
    Outcome.ROLLED_BACK: ExitCode.ROLLED_BACK,
    Outcome.NEEDS_HUMAN: ExitCode.NEEDS_HUMAN,
}
_SEVERITY = list(Outcome)


def worst(outcomes: list[Outcome]) -> Outcome:
    """The most severe of `outcomes` (NOTHING_TO_DO for none)."""
    return max(outcomes, key=_SEVERITY.index, default=Outcome.NOTHING_TO_DO)


@dataclass(frozen=True)
class RegionResult:
    """How one region ended: what each target published, and what each alias serves now."""

    region: str
    outcome: Outcome
    message: str
    published: dict[str, PublishedVersion] = field(default_factory=dict)
    serving: dict[str, str] = field(default_factory=dict)  # target -> routing, as last known
