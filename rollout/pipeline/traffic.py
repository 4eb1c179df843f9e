"""The traffic stage: publish each target's version and move its alias, through the engine.

Resource names are resolved once, in the region's scope, and recorded before
anything changes; a resumed or rolled-back release uses the recorded names, so
an edited plan cannot hide what the release touched.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from rollout.engine import events as ev
from rollout.engine.inspection import RegionInspection, TargetInspection
from rollout.engine.outcome import Outcome, RegionResult
from rollout.engine.progress import TargetRun
from rollout.engine.region import RegionRollout
from rollout.engine.rollback import error_text
from rollout.pipeline.ports_of_plan import hook_spec
from rollout.pipeline.scope import RegionScope, UnfilledPlaceholderError
from rollout.pipeline.stage import StageRun
from rollout.plan.model import Target
from rollout.state.model import RegionRecord, TargetIdentity
from rollout.state.session import RolloutSession, snapshot_of

KNOWN_AFTER_TERRAFORM = "known after terraform applies (its outputs name it)"


class TrafficWiring(Protocol):
    """What the traffic stage needs from the builder of its region."""

    @property
    def region(self) -> str: ...

    @property
    def scope(self) -> RegionScope: ...

    def identity(self, target: Target, scope: RegionScope) -> TargetIdentity: ...

    def target_run(
        self, target: Target, scope: RegionScope, identity: TargetIdentity | None = None
    ) -> TargetRun: ...

    def recorded_run(self, name: str, identity: TargetIdentity) -> TargetRun: ...

    def inspect(self, runs: list[TargetRun], scope: RegionScope) -> RegionInspection: ...

    def engine(
        self,
        targets: list[TargetRun],
        scope: RegionScope,
        emit: ev.EventSink,
        session: RolloutSession | None,
    ) -> RegionRollout: ...


@dataclass
class TrafficStage:
    """Publishing and traffic shifting for one region's targets."""

    build: TrafficWiring
    targets: Sequence[Target]  # the plan's chosen targets
    emit: ev.EventSink
    session: RolloutSession | None = None
    recorded: RegionRecord | None = None
    name: str = "traffic"

    @property
    def region(self) -> str:
        return self.build.region

    def preview(self, scope: RegionScope) -> RegionInspection:
        """Every alias, what would be published, every alarm, and what would stop a release."""
        try:
            self._require_hook_outputs(scope)
            identities = self._identities(scope, {})
            runs = [self.build.target_run(t, scope, identities[t.name]) for t in self.targets]
        except UnfilledPlaceholderError as exc:
            if exc.pending:  # names terraform gives once it has applied: not a problem yet
                return RegionInspection(
                    self.region,
                    tuple(
                        TargetInspection(t.name, "unknown", KNOWN_AFTER_TERRAFORM, True)
                        for t in self.targets
                    ),
                    (),
                    (),
                )
            return self._refused(exc)
        except ValueError as exc:  # an alias named twice
            return self._refused(exc)
        return self.build.inspect(runs, scope)

    def _refused(self, exc: ValueError) -> RegionInspection:
        target = TargetInspection("-", "unknown", f"error: {exc}", False, str(exc))
        return RegionInspection(self.region, (target,), (), (f"{self.region} {exc}",))

    def run(self, scope: RegionScope) -> StageRun:
        """Release, or carry on from the record."""
        try:
            runs = self._resolve(scope)
        except Exception as exc:  # name it and stop; say so if an earlier process moved traffic
            # A placeholder without a value or an alias named twice says it all itself.
            reason = str(exc) if isinstance(exc, ValueError) else error_text(exc)
            if self.recorded is not None and self.recorded.moved:
                message = (
                    f"could not carry on: {reason}; traffic moved before, as the "
                    "record says: `rollout rollback` restores it"
                )
                return StageRun(RegionResult(self.region, Outcome.NEEDS_HUMAN, message), scope)
            failed = RegionResult(self.region, Outcome.FAILED_BEFORE_TRAFFIC, reason)
            return StageRun(failed, scope)
        engine = self.build.engine(runs, scope, self.emit, self.session)
        recorded = self.recorded.targets if self.recorded else {}
        snapshots = {name: snapshot_of(record) for name, record in recorded.items()}
        result = engine.resume(snapshots) if snapshots else engine.run()
        return StageRun(result, scope)

    def _identities(
        self, scope: RegionScope, known: Mapping[str, TargetIdentity]
    ) -> dict[str, TargetIdentity]:
        """The resource of each target (the recorded one, when known); one target an alias."""
        identities: dict[str, TargetIdentity] = {}
        for target in self.targets:
            identity = known.get(target.name) or self.build.identity(target, scope)
            twin = next(
                (name for name, seen in identities.items() if seen.same_alias(identity)), None
            )
            if twin is not None:
                raise ValueError(
                    f"targets {twin!r} and {target.name!r} both name {identity.describe()} in "
                    f"{self.region}; an alias can be moved by one target only"
                )
            identities[target.name] = identity
        return identities

    def _require_hook_outputs(self, scope: RegionScope) -> None:
        for target in self.targets:
            for phase in ("before_traffic", "after_traffic", "on_pause"):
                spec = hook_spec(getattr(target.hooks, phase))
                if spec is not None:
                    where = f"targets.{target.name}.hooks.{phase}"
                    scope.require_outputs(spec.value, where)

    def _resolve(self, scope: RegionScope) -> list[TargetRun]:
        self._require_hook_outputs(scope)
        identities = self._identities(scope, self.recorded.resources if self.recorded else {})
        if self.session is not None:
            self.session.resolved(self.region, scope.recorded(), identities)
        return [self.build.target_run(t, scope, identities[t.name]) for t in self.targets]

    def roll_back(self, reason: str) -> RegionResult:
        """Put the recorded aliases back, whatever the plan says today."""
        recorded = self.recorded or RegionRecord()
        runs, unknown = [], []
        plan_targets = {target.name: target for target in self.targets}
        for name in recorded.targets:
            identity = recorded.resources.get(name)
            if identity is None and name in plan_targets:
                # Records written before resources were recorded: the plan names them.
                identity = self.build.identity(plan_targets[name], self.build.scope)
            if identity is None:
                unknown.append(name)
            else:
                runs.append(self.build.recorded_run(name, identity))
        engine = self.build.engine(runs, self.build.scope, self.emit, self.session)
        snapshots = {name: snapshot_of(record) for name, record in recorded.targets.items()}
        result = engine.roll_back(snapshots, reason)
        if not unknown:
            return result
        message = f"{result.message}; the record does not say which resource {unknown} is"
        return RegionResult(self.region, Outcome.NEEDS_HUMAN, message, serving=result.serving)
