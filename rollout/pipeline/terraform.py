"""The terraform stage: init, plan and apply of exactly that plan, in one region.

Its outputs become `{tf.NAME}` for the stages after it, and are recorded (a
sensitive one only as a digest), so `resume`, `status` and `rollback` use the
values the release used. Terraform's changes are not undone by a rollback:
infrastructure must serve both versions while traffic shifts.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from rollout.engine import events as ev
from rollout.engine.outcome import Outcome, RegionResult
from rollout.pipeline.scope import RegionScope
from rollout.pipeline.stage import StageRun
from rollout.redact import SHORTEST_SECRET, hide
from rollout.state.model import RegionRecord, TerraformRecord, TerraformStatus
from rollout.state.session import RolloutSession
from rollout.terraform.cli import (
    OutputValue,
    TerraformCli,
    TerraformError,
    new_plans_dir,
    scratch_data_dir,
)
from rollout.terraform.messages import ChangeSummary, Diagnostic, Message, ResourceProgress

SENSITIVE = "(sensitive)"


class TerraformWiring(Protocol):
    """What the terraform stage needs from the builder of its region."""

    @property
    def region(self) -> str: ...

    def terraform_data_dir(self) -> Path: ...

    def terraform(
        self,
        scope: RegionScope,
        on_message: Callable[[Message], None],
        cancelled: Callable[[], bool],
        data_dir: Path | None = None,
    ) -> TerraformCli: ...


@dataclass(frozen=True)
class TerraformPreview:
    """What terraform would change in one region, and the outputs known before it applies."""

    region: str
    summary: str
    planned: tuple[tuple[str, str], ...] = ()  # (action, address)
    outputs: tuple[tuple[str, str], ...] = ()  # shown values: a sensitive one masked
    changes_pending: bool = False
    problems: tuple[str, ...] = ()
    scope: RegionScope | None = None  # the scope after it, when its outputs are known


@dataclass
class TerraformStage:
    """One region's terraform."""

    build: TerraformWiring
    emit: ev.EventSink
    session: RolloutSession | None = None
    recorded: RegionRecord | None = None
    cancelled: Callable[[], bool] = field(default=lambda: False)
    name: str = "terraform"

    @property
    def region(self) -> str:
        return self.build.region

    def preview(self, scope: RegionScope) -> TerraformPreview:
        """`init` and `plan`, applying nothing; the outputs too when nothing would change.

        It works in a private copy of the region's data directory: a `plan` run while an
        apply runs must not re-point the apply's backend or workspace."""
        plans_dir = new_plans_dir()
        scratch = scratch_data_dir(self.build.terraform_data_dir())
        try:
            cli = self.build.terraform(scope, _ignore, self.cancelled, scratch)
            cli.init()
            saved = cli.plan(plans_dir)
            planned = tuple((c.action, c.address) for c in saved.planned)
            summary = saved.summary.describe() if saved.summary else "no changes"
            if saved.changes:
                return TerraformPreview(self.region, summary, planned, changes_pending=True)
            outputs = cli.outputs()
            self._hide(outputs)
        except (TerraformError, ValueError) as exc:
            problem = f"{self.region} terraform: {exc}"
            return TerraformPreview(self.region, "unknown", problems=(problem,))
        finally:
            shutil.rmtree(plans_dir, ignore_errors=True)
            shutil.rmtree(scratch, ignore_errors=True)
        return TerraformPreview(
            self.region, summary, planned, _shown(outputs), scope=_with_outputs(scope, outputs)
        )

    def run(self, scope: RegionScope) -> StageRun:
        """Apply the region's saved plan (or carry on from the record) and read its outputs."""
        recorded = self.recorded.terraform if self.recorded else None
        if recorded is not None and recorded.status.finished:
            return self._carried_on(scope, recorded)
        plans_dir = new_plans_dir()
        try:
            cli = self.build.terraform(scope, self._relay, self.cancelled)
            cli.init()
            saved = cli.plan(plans_dir)
            counts = saved.summary or ChangeSummary(0, 0, 0, "plan")
            self.emit(
                ev.TerraformPlanned(
                    region=self.region,
                    add=counts.add,
                    change=counts.change,
                    destroy=counts.destroy,
                    resources=tuple((c.action, c.address) for c in saved.planned),
                )
            )
            status, summary = TerraformStatus.UNCHANGED, "no changes"
            if saved.changes:
                self._record(TerraformRecord(status=TerraformStatus.APPLYING))
                applied = cli.apply(saved) or counts
                summary = (
                    f"{applied.add} added, {applied.change} changed, {applied.destroy} destroyed"
                )
                self.emit(
                    ev.TerraformApplied(
                        region=self.region,
                        add=applied.add,
                        change=applied.change,
                        destroy=applied.destroy,
                    )
                )
                status = TerraformStatus.APPLIED
            outputs = cli.outputs()
        except (TerraformError, ValueError) as exc:
            return self._failed(scope, str(exc))
        finally:
            shutil.rmtree(plans_dir, ignore_errors=True)
        self._hide(outputs)
        self.emit(ev.TerraformOutputs(region=self.region, outputs=_shown(outputs)))
        self._record(
            TerraformRecord(
                status=status,
                summary=summary,
                outputs={n: o.text for n, o in outputs.items() if not o.sensitive},
                sensitive={n: _digest(o.text) for n, o in outputs.items() if o.sensitive},
            )
        )
        outcome = Outcome.SUCCEEDED if status is TerraformStatus.APPLIED else Outcome.NOTHING_TO_DO
        result = RegionResult(self.region, outcome, f"terraform: {summary}")
        return StageRun(result, _with_outputs(scope, outputs))

    def roll_back(self, reason: str) -> RegionResult | None:
        """Terraform's changes stay: the infrastructure serves both versions."""
        return None

    # -- helpers -----------------------------------------------------------------------------

    def _carried_on(self, scope: RegionScope, recorded: TerraformRecord) -> StageRun:
        """A resumed region whose terraform finished: the recorded outputs, and the sensitive
        ones read again (only their digests were recorded) and checked against the record."""
        outputs = {name: OutputValue(text, False) for name, text in recorded.outputs.items()}
        if recorded.sensitive:
            try:
                cli = self.build.terraform(scope, self._relay, self.cancelled)
                cli.init()
                current = cli.outputs()
            except (TerraformError, ValueError) as exc:
                return self._failed(scope, f"reading the sensitive outputs again: {exc}")
            for name, digest in recorded.sensitive.items():
                value = current.get(name)
                if value is None or not _same(value.text, digest):
                    return self._failed(
                        scope, f"the sensitive output {name!r} changed since the release used it"
                    )
                outputs[name] = OutputValue(value.text, True)
        self._hide(outputs)
        message = f"terraform: {recorded.status.value} before; not run again"
        result = RegionResult(self.region, Outcome.NOTHING_TO_DO, message)
        return StageRun(result, _with_outputs(scope, outputs))

    def _failed(self, scope: RegionScope, reason: str) -> StageRun:
        self._record(TerraformRecord(status=TerraformStatus.FAILED, message=reason))
        if self.recorded is not None and self.recorded.moved:
            # A resumed region whose traffic already moved: not "before traffic" any more.
            message = (
                f"terraform: {reason}; traffic moved before, as the record says: "
                "`rollout rollback` restores it"
            )
            return StageRun(RegionResult(self.region, Outcome.NEEDS_HUMAN, message), scope)
        failed = RegionResult(self.region, Outcome.FAILED_BEFORE_TRAFFIC, f"terraform: {reason}")
        return StageRun(failed, scope)

    def _hide(self, outputs: Mapping[str, OutputValue]) -> None:
        for name in _hide_sensitive(outputs):
            self.emit(
                ev.TerraformDiagnostic(
                    region=self.region,
                    severity="warning",
                    summary=f"the sensitive output {name!r} cannot be masked in what rollout "
                    f"writes: shorter than {SHORTEST_SECRET} characters",
                    detail="it is never recorded, but a hook that prints it shows it",
                    file=None,
                    line=None,
                )
            )

    def _record(self, record: TerraformRecord) -> None:
        if self.session is not None:
            self.session.terraform(self.region, record)

    def _relay(self, message: Message) -> None:
        """Terraform's progress as rollout events, as it comes."""
        if isinstance(message, ResourceProgress):
            self.emit(
                ev.TerraformResource(
                    region=self.region,
                    address=message.address,
                    action=message.action,
                    status=message.status,
                    elapsed_seconds=message.elapsed_seconds,
                )
            )
        elif isinstance(message, Diagnostic):
            self.emit(
                ev.TerraformDiagnostic(
                    region=self.region,
                    severity=message.severity,
                    summary=message.summary,
                    detail=message.detail,
                    file=message.filename,
                    line=message.line,
                )
            )


def _ignore(_message: Message) -> None:
    return None


def _with_outputs(scope: RegionScope, outputs: Mapping[str, OutputValue]) -> RegionScope:
    """The scope with every output as `{tf.NAME}`; sensitive values hidden from all output."""
    secret = frozenset(f"tf.{name}" for name, value in outputs.items() if value.sensitive)
    return scope.with_values({f"tf.{n}": o.text for n, o in outputs.items()}, secret)


def _hide_sensitive(outputs: Mapping[str, OutputValue]) -> list[str]:
    """Mask every sensitive value (and each member of a sensitive list or map) in all that
    rollout writes; the names of those too short to mask without masking ordinary words."""
    unmasked = []
    for name, value in sorted(outputs.items()):
        if not value.sensitive:
            continue
        parts = [value.text, *_members(_parsed(value.text))]
        hidden = [hide(part) for part in parts]
        if not all(hidden):
            unmasked.append(name)
    return unmasked


def _parsed(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _members(value: Any) -> list[str]:
    """The scalar members of a list or map output, as text a hook may print."""
    if isinstance(value, dict):
        return [text for item in value.values() for text in _members(item)]
    if isinstance(value, list):
        return [text for item in value for text in _members(item)]
    if isinstance(value, bool) or value is None:
        return []
    return [str(value)]


def _shown(outputs: Mapping[str, OutputValue]) -> tuple[tuple[str, str], ...]:
    return tuple(
        (name, SENSITIVE if value.sensitive else value.text)
        for name, value in sorted(outputs.items())
    )


def _digest(text: str, salt: str | None = None) -> str:
    """A salted digest: it tells a value read again from another, and no table reverses it."""
    salt = salt if salt is not None else secrets.token_hex(8)
    return f"sha256:{salt}:" + hashlib.sha256(f"{salt}:{text}".encode()).hexdigest()


def _same(text: str, digest: str) -> bool:
    parts = digest.split(":")
    return len(parts) == 3 and hmac.compare_digest(_digest(text, parts[1]), digest)
