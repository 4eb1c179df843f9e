"""The one place that builds a region: clients, pacers, adapters, the scope and the pipeline.

Every command (`apply`, `resume`, `rollback`, `status`, `plan`) asks a
`Builder`; it is the only module that knows both the plan model and the AWS
adapters. Resource names come from the plan rendered in the region's scope,
or from the state record when a release already touched them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rollout.aws.alarms import CloudWatchAlarms
from rollout.aws.clients import AwsAccess, client
from rollout.aws.identity import CallerIdentityReader
from rollout.aws.lambda_target import LambdaCodeSource, LambdaTargetAdapter
from rollout.aws.pacing import ServicePacer
from rollout.aws.stepfunctions_target import StepFunctionsTargetAdapter
from rollout.engine import events as ev
from rollout.engine.inspection import RegionInspection, inspect_region
from rollout.engine.ports import Clock, Journal, NullJournal, TargetAdapter
from rollout.engine.progress import TargetRun
from rollout.engine.region import RegionRollout
from rollout.hooks import PlanHookRunner
from rollout.nginx.mapping import (
    DomainMapping,
    MappingInvalidError,
    check_entries,
    check_mappings,
)
from rollout.nginx.options import NginxUsageError, proxy_options
from rollout.pipeline.nginx import NginxJob, NginxStage
from rollout.pipeline.ports_of_plan import alarm_policy, hook_spec
from rollout.pipeline.promote_line import promote_command
from rollout.pipeline.region import RegionPipeline, record_nothing
from rollout.pipeline.scope import RegionScope
from rollout.pipeline.selection import Selection
from rollout.pipeline.stage import Stage
from rollout.pipeline.terraform import TerraformStage
from rollout.pipeline.traffic import TrafficStage
from rollout.plan.errors import KeyPath, PlanInvalidError
from rollout.plan.load import LoadedPlan, read_limited
from rollout.plan.model import LambdaCode, Plan, Target
from rollout.plan.source import SourceDocument, parse_source
from rollout.plan.strategy_spec import strategy_steps
from rollout.state.model import RegionRecord, TargetIdentity, TargetKind
from rollout.state.session import RolloutSession
from rollout.terraform.cli import TerraformCli, TerraformError, TerraformSettings, binary_version
from rollout.terraform.messages import Message


@dataclass
class Builder:
    """Builds what every command needs for the plan's regions."""

    loaded: LoadedPlan
    selection: Selection
    clock: Clock
    endpoint_url: str | None = None
    _regions: dict[str, RegionBuild] = field(default_factory=dict)
    _terraform_checked: bool = False

    def check_terraform(self) -> None:
        """The plan's terraform binary runs and is recent enough; asked once per command (each
        region checks its own `dir`, which may use `{region}`)."""
        section = self.plan.terraform
        if section is None or self._terraform_checked:
            return
        binary_version(section.binary)
        self._terraform_checked = True

    @property
    def plan(self) -> Plan:
        return self.loaded.plan

    def region(self, region: str) -> RegionBuild:
        """The builder of one region (one set of clients and pacers per region)."""
        if region not in self._regions:
            self._regions[region] = RegionBuild(self, region)
        return self._regions[region]


class RegionBuild:
    """Clients, pacers, adapters and engines for one region."""

    def __init__(self, builder: Builder, region: str) -> None:
        plan = builder.plan
        self.builder = builder
        self.region = region
        self.clock = builder.clock
        self.scope = RegionScope(region)
        role_arn = plan.aws.role_arn
        self.access = AwsAccess(
            region=region,
            endpoint_url=builder.endpoint_url or plan.aws.endpoint_url,
            profile=plan.aws.profile,
            role_arn=self.scope.render(role_arn, "aws.role_arn") if role_arn else None,
            external_id=plan.aws.external_id,
        )
        self._clients: dict[str, Any] = {}
        self._pacers: dict[str, ServicePacer] = {}
        self._caller: CallerIdentityReader | None = None

    @property
    def base_dir(self) -> Path:
        return self.builder.loaded.base_dir

    def client(self, service: str) -> Any:
        """One client per service for this region."""
        if service not in self._clients:
            self._clients[service] = client(self.access, service)
        return self._clients[service]

    def pacer(self, service: str) -> ServicePacer:
        """One set of buckets per service for this region, shared by its targets."""
        if service not in self._pacers:
            self._pacers[service] = ServicePacer(service, self.clock)
        return self._pacers[service]

    def caller(self) -> CallerIdentityReader:
        """Who rollout acts as in this region (one GetCallerIdentity for every target)."""
        if self._caller is None:
            self._caller = CallerIdentityReader(self.client("sts"), self.region)
        return self._caller

    def alarms(self) -> CloudWatchAlarms:
        return CloudWatchAlarms(self.client("cloudwatch"), self.region)

    def hooks(self, cancelled: Callable[[], bool]) -> PlanHookRunner:
        def hook_client(service: str, read_timeout: float) -> Any:
            return client(self.access, service, read_timeout=read_timeout)

        return PlanHookRunner(hook_client, self.clock, self.base_dir, cancelled)

    # -- terraform -------------------------------------------------------------------------

    def terraform_data_dir(self) -> Path:
        """The region's own `.terraform`, kept between runs next to the local state."""
        base = self.base_dir.resolve()  # terraform runs in `dir`: a relative path would move
        return base / ".rollout" / "terraform" / self.builder.plan.name / self.region

    def terraform(
        self,
        scope: RegionScope,
        on_message: Callable[[Message], None],
        cancelled: Callable[[], bool],
        data_dir: Path | None = None,
    ) -> TerraformCli:
        """The region's terraform, with the plan's section rendered in its scope (in its own
        data directory, or in `data_dir`, a preview's private copy of it)."""
        section = self.builder.plan.terraform
        assert section is not None  # a plan without the section builds no terraform stage
        self.builder.check_terraform()
        base = self.base_dir.resolve()
        folder = base / scope.render(section.dir, "terraform.dir")
        if not folder.is_dir():
            raise TerraformError(
                f"{self.builder.loaded.file}: terraform.dir: {folder} is not a folder"
            )
        settings = TerraformSettings(
            binary=section.binary,
            dir=folder,
            workspace=scope.render(section.workspace, "terraform.workspace")
            if section.workspace
            else None,
            backend_config={
                key: scope.render(value, f"terraform.backend_config.{key}")
                for key, value in section.backend_config.items()
            },
            vars=_rendered(section.vars, scope, "terraform.vars"),
            var_files=[
                scope.render(file, f"terraform.var_files[{index}]")
                for index, file in enumerate(section.var_files)
            ],
            plugin_dir=(base / section.plugin_dir).resolve() if section.plugin_dir else None,
            timeout_seconds=section.timeout.total_seconds(),
        )
        return TerraformCli(
            settings,
            data_dir or self.terraform_data_dir(),
            on_message=on_message,
            cancelled=cancelled,
        )

    # -- nginx -----------------------------------------------------------------------------

    def nginx(self, scope: RegionScope) -> NginxJob:
        """The region's mappings and proxy options, filled in its scope and checked."""
        section = self.builder.plan.nginx
        assert section is not None  # a plan without the section builds no nginx stage
        base = self.base_dir.resolve()
        if isinstance(section.mappings, str):
            file = base / scope.render(section.mappings, "nginx.mappings")
            try:
                read = parse_source(read_limited(file), str(file))
            except PlanInvalidError as exc:
                raise MappingInvalidError(exc.errors) from None
            data = _rendered(read.data, scope, str(file))
            mappings = check_mappings(SourceDocument(read.file, data, read.locations)).mappings
            source = str(file)
        else:
            at: KeyPath = ("nginx", "mappings")
            written = [m.model_dump(mode="json", exclude_none=True) for m in section.mappings]
            data = _rendered(written, scope, "nginx.mappings")
            document = SourceDocument(
                str(self.builder.loaded.file), {}, self.builder.loaded.locations
            )
            mappings = tuple(_absolute_tls(m, base) for m in check_entries(document, at, data))
            source = str(self.builder.loaded.file)

        def filled(value: str | None, key: str) -> str | None:
            return scope.render(value, f"nginx.{key}") if value else None

        def path(value: str | None, key: str) -> Path | None:
            text = filled(value, key)
            return base / text if text else None

        try:
            options = proxy_options(
                listen=filled(section.listen, "listen") or "80",
                vpc_endpoint=filled(section.vpc_endpoint, "vpc_endpoint"),
                resolver=filled(section.resolver, "resolver"),
                ssl_cert=path(section.ssl_certificate, "ssl_certificate"),
                ssl_key=path(section.ssl_certificate_key, "ssl_certificate_key"),
                upstream_ca=path(section.upstream_ca, "upstream_ca"),
            )
        except NginxUsageError as exc:
            raise ValueError(f"nginx section: {exc}") from None
        return NginxJob(
            mappings=mappings,
            options=options,
            output=base / scope.render(section.output, "nginx.output"),
            form=section.format,
            source=source,
            reload=filled(section.reload, "reload"),
        )

    # -- targets ---------------------------------------------------------------------------

    def identity(self, target: Target, scope: RegionScope) -> TargetIdentity:
        """The resource a plan target names in this region."""
        where = f"targets.{target.name}"
        if target.lambda_ is not None:
            spec = target.lambda_
            return TargetIdentity(
                kind=TargetKind.LAMBDA,
                name=scope.render(spec.function, f"{where}.lambda.function"),
                alias=scope.render(spec.alias, f"{where}.lambda.alias"),
            )
        assert target.stepfunctions is not None
        machine = target.stepfunctions
        return TargetIdentity(
            kind=TargetKind.STEPFUNCTIONS,
            name=scope.render(machine.state_machine, f"{where}.stepfunctions.state_machine"),
            alias=scope.render(machine.alias, f"{where}.stepfunctions.alias"),
        )

    def adapter(
        self, identity: TargetIdentity, target: Target | None, scope: RegionScope
    ) -> TargetAdapter:
        """The adapter of a resource; what to publish comes from the plan target, when given."""
        where = f"targets.{target.name}" if target else identity.describe()
        if identity.kind is TargetKind.LAMBDA:
            code = target.lambda_.code if target and target.lambda_ else None
            return LambdaTargetAdapter(
                self.client("lambda"),
                self.pacer("lambda"),
                function=identity.name,
                alias=identity.alias,
                code=self._code_source(code, scope, f"{where}.lambda.code"),
                region=self.region,
                s3_client=self.client("s3") if code and code.s3 else None,
                clock=self.clock,
            )
        machine = target.stepfunctions if target else None
        definition = (
            scope.render(machine.definition, f"{where}.stepfunctions.definition")
            if machine and machine.definition
            else None
        )
        return StepFunctionsTargetAdapter(
            self.client("stepfunctions"),
            self.caller(),
            self.pacer("stepfunctions"),
            state_machine=identity.name,
            alias=identity.alias,
            definition_path=self.base_dir / definition if definition else None,
            region=self.region,
        )

    def _code_source(
        self, code: LambdaCode | None, scope: RegionScope, where: str
    ) -> LambdaCodeSource | None:
        if code is None:
            return None
        if code.zip is not None:
            return LambdaCodeSource(zip_path=self.base_dir / scope.render(code.zip, where))
        if code.s3 is not None:
            return LambdaCodeSource(
                s3_bucket=scope.render(code.s3.bucket, f"{where}.s3.bucket"),
                s3_key=scope.render(code.s3.key, f"{where}.s3.key"),
                s3_version=code.s3.version,
            )
        if code.image_uri is not None:
            return LambdaCodeSource(image_uri=scope.render(code.image_uri, where))
        return LambdaCodeSource(version=code.version)

    def target_run(
        self, target: Target, scope: RegionScope, identity: TargetIdentity | None = None
    ) -> TargetRun:
        """The engine's view of a plan target (at the recorded resource, when given)."""
        plan = self.builder.plan
        return TargetRun(
            name=target.name,
            adapter=self.adapter(identity or self.identity(target, scope), target, scope),
            steps=strategy_steps(target.strategy, bake=plan.alarms.bake),
            alarms=tuple(scope.render(a, f"targets.{target.name}.alarms") for a in target.alarms),
            before_traffic=hook_spec(target.hooks.before_traffic),
            after_traffic=hook_spec(target.hooks.after_traffic),
            on_pause=hook_spec(target.hooks.on_pause),
        )

    def recorded_run(self, name: str, identity: TargetIdentity) -> TargetRun:
        """A target known only from the record: enough to read and restore its alias."""
        return TargetRun(name, self.adapter(identity, None, self.scope), steps=())

    def inspect(self, runs: list[TargetRun], scope: RegionScope) -> RegionInspection:
        """What releasing `runs` here would do, read from AWS; changes nothing."""
        plan = self.builder.plan
        return inspect_region(
            self.region,
            runs,
            self.alarms(),
            alarm_policy(plan),
            self.clock,
            values=scope.values,
            replace_split=plan.on_split_alias == "replace",
        )

    def engine(
        self,
        targets: list[TargetRun],
        scope: RegionScope,
        emit: ev.EventSink,
        session: RolloutSession | None,
    ) -> RegionRollout:
        """The region's traffic engine, wired to the session's journal and requests when given."""
        plan = self.builder.plan
        journal: Journal = session if session is not None else NullJournal()
        region = self.region
        return RegionRollout(
            region=region,
            targets=targets,
            alarms=self.alarms(),
            clock=self.clock,
            policy=alarm_policy(plan),
            emit=emit,
            hooks=self.hooks(session.abort_requested if session else _never),
            values=scope.values,
            replace_split=plan.on_split_alias == "replace",
            promoted=(lambda t, step: session.promoted(region, t, step))
            if session
            else (lambda _t, _step: False),
            abort_requested=session.abort_requested if session else _never,
            abort_reason=session.abort_reason if session else _aborted,
            interrupted=session.interrupted.is_set if session else _never,
            full_promotion_requested=session.full_promotion_requested if session else _never,
            promote_command=lambda target: promote_command(
                self.builder.loaded, region, target, self.builder.endpoint_url
            ),
            journal=journal,
            description=f"rollout {session.record.id}" if session else "rollout",
        )

    def pipeline(
        self,
        emit: ev.EventSink,
        session: RolloutSession | None = None,
        recorded: RegionRecord | None = None,
    ) -> RegionPipeline:
        """The region's stages, in order, over its scope (the recorded one when resuming)."""
        targets = self.builder.selection.plan_targets(self.builder.plan)
        scope = RegionScope(self.region, recorded.scope) if recorded else self.scope
        stages: list[Stage] = []
        if self.builder.plan.terraform is not None:
            cancelled = session.abort_requested if session else _never
            stages.append(TerraformStage(self, emit, session, recorded, cancelled))
        if self.builder.plan.nginx is not None:
            cancelled = session.abort_requested if session else _never
            stages.append(NginxStage(self, emit, session, recorded, cancelled))
        stages.append(TrafficStage(self, targets, emit, session, recorded))
        return RegionPipeline(
            self.region,
            stages,
            scope,
            emit,
            session.region_finished if session else record_nothing,
        )


def _never() -> bool:
    return False


def _aborted() -> str:
    return "aborted on request"


def _absolute_tls(mapping: DomainMapping, base: Path) -> DomainMapping:
    """A mapping's certificate files, named relative to the plan file, as nginx needs them."""
    if mapping.tls is None:
        return mapping
    certificate, key = (str((base / name).resolve()) for name in mapping.tls)
    return replace(mapping, tls=(certificate, key))


def _rendered(value: Any, scope: RegionScope, where: str) -> Any:
    """A terraform variable's value with the region's placeholders filled, at any depth."""
    if isinstance(value, str):
        return scope.render(value, where)
    if isinstance(value, dict):
        return {k: _rendered(v, scope, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [_rendered(v, scope, f"{where}[{i}]") for i, v in enumerate(value)]
    return value
