"""Wires a plan to the engine: per region, AWS adapters for each target, alarms and hooks.

The only module that knows both the plan model and the AWS adapters; the
engine sees ports, the CLI sees `apply_plan` and its result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from rollout.aws.alarms import CloudWatchAlarms
from rollout.aws.clients import AwsAccess, client
from rollout.aws.lambda_target import LambdaCodeSource, LambdaTargetAdapter
from rollout.aws.pacing import RequestPacer
from rollout.aws.stepfunctions_target import StepFunctionsTargetAdapter
from rollout.engine import events as ev
from rollout.engine.alarm_watch import AlarmPolicy
from rollout.engine.outcome import RegionResult
from rollout.engine.ports import Clock, TargetAdapter
from rollout.engine.region import RegionRollout, TargetRun
from rollout.engine.waves import RolloutResult, run_waves, stamped_sink
from rollout.hooks import PlanHookRunner
from rollout.plan.load import LoadedPlan
from rollout.plan.model import LambdaCode, Plan, Target
from rollout.plan.placeholders import render_known
from rollout.plan.strategy_spec import strategy_steps
from rollout.state.session import RolloutSession


@dataclass(frozen=True)
class Selection:
    """Which regions and targets to act on (all when empty), and the AWS endpoint override."""

    regions: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    endpoint_url: str | None = None


def chosen_waves(plan: Plan, selection: Selection) -> list[list[str]]:
    """The plan's waves, narrowed to the selected regions."""
    waves = [
        [r for r in wave if not selection.regions or r in selection.regions]
        for wave in plan.wave_list()
    ]
    return [wave for wave in waves if wave]


def chosen_targets(plan: Plan, selection: Selection) -> list[Target]:
    """The plan's targets, narrowed to the selected ones, in plan order."""
    return [t for t in plan.targets if not selection.targets or t.name in selection.targets]


class RegionWiring:
    """Builds the clients and adapters of one region."""

    def __init__(self, loaded: LoadedPlan, region: str, selection: Selection, clock: Clock) -> None:
        plan = loaded.plan
        self.loaded = loaded
        self.region = region
        self.clock = clock
        self.access = AwsAccess(
            region=region,
            endpoint_url=selection.endpoint_url or plan.aws.endpoint_url,
            profile=plan.aws.profile,
            role_arn=render_known(plan.aws.role_arn, {"region": region})
            if plan.aws.role_arn
            else None,
            external_id=plan.aws.external_id,
        )
        self._clients: dict[str, Any] = {}
        self._pacers: dict[str, RequestPacer] = {}

    def client(self, service: str) -> Any:
        """One client per service for this region."""
        if service not in self._clients:
            self._clients[service] = client(self.access, service)
        return self._clients[service]

    def pacer(self, service: str) -> RequestPacer:
        """One pacer per service for this region, shared by its targets."""
        if service not in self._pacers:
            self._pacers[service] = RequestPacer.for_service(service, self.clock)
        return self._pacers[service]

    def values(self) -> dict[str, str]:
        return {"region": self.region}

    def adapter(self, target: Target) -> TargetAdapter:
        """The adapter for one target in this region."""
        values = self.values()
        base = self.loaded.base_dir
        if target.lambda_ is not None:
            spec = target.lambda_
            return LambdaTargetAdapter(
                self.client("lambda"),
                self.pacer("lambda"),
                function=render_known(spec.function, values),
                alias=render_known(spec.alias, values),
                code=_code_source(spec.code, base, values),
                region=self.region,
                s3_client=self.client("s3") if spec.code and spec.code.s3 else None,
            )
        assert target.stepfunctions is not None
        machine = target.stepfunctions
        definition = render_known(machine.definition, values) if machine.definition else None
        return StepFunctionsTargetAdapter(
            self.client("stepfunctions"),
            self.client("sts"),
            self.pacer("stepfunctions"),
            state_machine=render_known(machine.state_machine, values),
            alias=render_known(machine.alias, values),
            definition_path=base / definition if definition else None,
            region=self.region,
        )

    def target_run(self, target: Target) -> TargetRun:
        """The engine's view of one target in this region."""
        plan = self.loaded.plan
        return TargetRun(
            name=target.name,
            adapter=self.adapter(target),
            steps=strategy_steps(target.strategy, bake=plan.alarms.bake),
            alarms=tuple(render_known(a, self.values()) for a in target.alarms),
            before_traffic=target.hooks.before_traffic,
            after_traffic=target.hooks.after_traffic,
        )

    def alarms(self) -> CloudWatchAlarms:
        return CloudWatchAlarms(self.client("cloudwatch"))

    def hooks(self, cancelled: Callable[[], bool]) -> PlanHookRunner:
        def hook_client(service: str, read_timeout: float) -> Any:
            return client(self.access, service, read_timeout=read_timeout)

        return PlanHookRunner(hook_client, self.clock, self.loaded.base_dir, cancelled)


def _code_source(
    code: LambdaCode | None, base: Path, values: dict[str, str]
) -> LambdaCodeSource | None:
    if code is None:
        return None
    if code.zip is not None:
        return LambdaCodeSource(zip_path=base / render_known(code.zip, values))
    if code.s3 is not None:
        return LambdaCodeSource(
            s3_bucket=render_known(code.s3.bucket, values),
            s3_key=render_known(code.s3.key, values),
            s3_version=code.s3.version,
        )
    if code.image_uri is not None:
        return LambdaCodeSource(image_uri=render_known(code.image_uri, values))
    return LambdaCodeSource(version=code.version)


def _never() -> bool:
    return False


def region_engine(
    loaded: LoadedPlan,
    region: str,
    selection: Selection,
    clock: Clock,
    *,
    emit: ev.EventSink,
    session: RolloutSession | None,
) -> RegionRollout:
    """The engine for one region, wired to AWS and, when given, to the session's journal."""
    plan = loaded.plan
    wiring = RegionWiring(loaded, region, selection, clock)
    policy = AlarmPolicy(
        poll_seconds=plan.alarms.poll_interval.total_seconds(),
        insufficient_data_fails=plan.alarms.insufficient_data == "fail",
    )
    engine = RegionRollout(
        region=region,
        targets=[wiring.target_run(t) for t in chosen_targets(plan, selection)],
        alarms=wiring.alarms(),
        clock=clock,
        policy=policy,
        emit=emit,
        hooks=wiring.hooks(session.abort_requested if session else _never),
    )
    if session is None:
        return engine
    return replace(
        engine,
        journal=session,
        abort_requested=session.abort_requested,
        promoted=session.promoted_counter(),
        full_promotion_requested=session.full_promotion_requested,
        description=f"rollout {session.record.id}",
    )


def apply_plan(
    loaded: LoadedPlan,
    selection: Selection,
    clock: Clock,
    sink: ev.EventSink,
    session: RolloutSession | None = None,
) -> RolloutResult:
    """Run the plan: every selected region and target, wave by wave."""
    emit = stamped_sink(sink, clock)

    def run_region(region: str) -> RegionResult:
        return region_engine(loaded, region, selection, clock, emit=emit, session=session).run()

    plan = loaded.plan
    result = run_waves(plan.name, chosen_waves(plan, selection), plan.parallelism, run_region, emit)
    if session is not None:
        session.finish(result.outcome.value)
    return result
