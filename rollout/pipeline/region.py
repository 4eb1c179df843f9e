"""One region's pipeline: its stages in order over one scope, with the region's start and end
announced and recorded."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rollout.engine import events as ev
from rollout.engine.outcome import Outcome, RegionResult
from rollout.pipeline.scope import RegionScope
from rollout.pipeline.stage import Stage, StagePreview

RegionRecorder = Callable[[str, Outcome, str], None]


def record_nothing(_region: str, _outcome: Outcome, _message: str) -> None:
    return None


@dataclass
class RegionPipeline:
    """The stages of one region."""

    region: str
    stages: Sequence[Stage]
    scope: RegionScope
    emit: ev.EventSink
    record_end: RegionRecorder = record_nothing

    def preview(self) -> list[StagePreview]:
        """What every stage would do; changes nothing. A stage whose outputs are known only
        once it runs leaves the later stages a scope that says so."""
        previews: list[StagePreview] = []
        scope = self.scope
        for stage in self.stages:
            preview = stage.preview(scope)
            previews.append(preview)
            if preview.problems:  # the later stages cannot be judged without this one
                break
            if preview.changes_pending:
                scope = scope.pending_outputs()
            scope = getattr(preview, "scope", None) or scope
        return previews

    def run(self) -> RegionResult:
        """Run the stages in order; the first that does not end well ends the region."""
        self.emit(ev.RegionStarted(region=self.region))
        scope = self.scope
        result = RegionResult(self.region, Outcome.NOTHING_TO_DO, "nothing to do")
        for stage in self.stages:
            done = stage.run(scope)
            result, scope = done.result, done.scope
            if not result.outcome.fine:
                break
        return self._finish(result)

    def roll_back(self, reason: str) -> RegionResult:
        """Undo, in reverse order, what each stage's record says it did."""
        self.emit(ev.RegionStarted(region=self.region))
        results = [r for stage in reversed(self.stages) if (r := stage.roll_back(reason))]
        if not results:
            return self._finish(RegionResult(self.region, Outcome.ROLLED_BACK, "nothing to undo"))
        worst = max(results, key=lambda r: r.outcome is Outcome.NEEDS_HUMAN)
        return self._finish(worst)

    def _finish(self, result: RegionResult) -> RegionResult:
        # A store that is gone is reported once, when the rollout finishes.
        with contextlib.suppress(Exception):
            self.record_end(self.region, result.outcome, result.message)
        self.emit(
            ev.RegionFinished(
                region=self.region, outcome=result.outcome.value, message=result.message
            )
        )
        return result
