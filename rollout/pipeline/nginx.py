"""The nginx stage: the region's domain mappings rendered, checked and written, after
terraform (whose outputs its values may use) and before traffic.

The file is written only once `nginx -t` accepted it (when nginx is installed),
and only when it changed; an optional reload command runs after that, and if it
fails the previous file is put back and the region stops before traffic moves.
Like terraform's changes, the file is not undone by `rollout rollback`.
"""

from __future__ import annotations

import difflib
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from rollout.engine import events as ev
from rollout.engine.outcome import Outcome, RegionResult
from rollout.files import write_if_changed
from rollout.nginx.check import NginxMissingError, check_config
from rollout.nginx.mapping import DomainMapping
from rollout.nginx.render import ProxyOptions, RenderError, render_full, render_servers
from rollout.pipeline.scope import RegionScope, UnfilledPlaceholderError
from rollout.pipeline.stage import StageRun
from rollout.plan.errors import PlanInvalidError
from rollout.processes import run_process
from rollout.state.model import NginxRecord, RegionRecord
from rollout.state.session import RolloutSession

RELOAD_SECONDS = 120.0


@dataclass(frozen=True)
class NginxJob:
    """What the region's nginx stage renders, where to, and how nginx learns of it."""

    mappings: tuple[DomainMapping, ...]
    options: ProxyOptions
    output: Path
    form: str  # full or servers
    source: str  # the mapping file, or the plan file for inline mappings
    reload: str | None = None

    def text(self) -> str:
        render = render_full if self.form == "full" else render_servers
        return render(self.mappings, self.options).text


class NginxWiring(Protocol):
    """What the nginx stage needs from the builder of its region."""

    @property
    def region(self) -> str: ...

    def nginx(self, scope: RegionScope) -> NginxJob: ...


@dataclass(frozen=True)
class NginxPreview:
    """What the stage would write in one region: a unified diff against the file on disk."""

    region: str
    path: str
    diff: tuple[str, ...] = ()
    changes_pending: bool = False
    problems: tuple[str, ...] = ()
    note: str = ""


@dataclass
class NginxStage:
    """One region's nginx configuration."""

    build: NginxWiring
    emit: ev.EventSink
    session: RolloutSession | None = None
    recorded: RegionRecord | None = None
    cancelled: Callable[[], bool] = field(default=lambda: False)
    name: str = "nginx"

    @property
    def region(self) -> str:
        return self.build.region

    def preview(self, scope: RegionScope) -> NginxPreview:
        """The diff against the file on disk; changes nothing."""
        try:
            job = self.build.nginx(scope)
            text = job.text()
        except UnfilledPlaceholderError as exc:
            if exc.pending:
                note = "known after terraform applies (its outputs fill the mappings)"
                return NginxPreview(self.region, "", changes_pending=True, note=note)
            return NginxPreview(self.region, "", problems=(f"{self.region} nginx: {exc}",))
        except (ValueError, OSError, PlanInvalidError) as exc:
            return NginxPreview(self.region, "", problems=(f"{self.region} nginx: {exc}",))
        before = _bytes(job.output)
        diff = tuple(
            difflib.unified_diff(
                (before or b"").decode("utf-8", "replace").splitlines(),
                text.splitlines(),
                fromfile=str(job.output) if before is not None else "/dev/null",
                tofile=str(job.output),
                lineterm="",
            )
        )
        return NginxPreview(self.region, str(job.output), diff, bool(diff))

    def run(self, scope: RegionScope) -> StageRun:
        """Render, check, write when changed, reload; any failure stops the region."""
        try:
            job = self.build.nginx(scope)
            text = job.text()
        except (ValueError, OSError, PlanInvalidError) as exc:
            return self._failed(scope, str(exc))
        try:
            checked = self._check(job)
        except _CheckFailed as failed:
            return self._failed(scope, str(failed))
        before = _bytes(job.output)
        try:
            changed = write_if_changed(job.output, text)
        except OSError as exc:
            return self._failed(scope, f"cannot write {job.output}: {exc.strerror or exc}")
        if changed and job.reload:
            problem = self._reload(job, before)
            if problem is not None:
                return self._failed(scope, problem)
        self.emit(
            ev.NginxRendered(
                region=self.region,
                path=str(job.output),
                domains=len({m.domain for m in job.mappings}),
                changed=changed,
                checked=checked,
            )
        )
        if self.session is not None:
            digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
            record = NginxRecord(
                path=str(job.output), digest=digest, changed=changed, checked=checked
            )
            self.session.nginx(self.region, record)
        outcome = Outcome.SUCCEEDED if changed else Outcome.NOTHING_TO_DO
        result = RegionResult(self.region, outcome, f"nginx: {job.output}")
        return StageRun(result, scope)

    def roll_back(self, reason: str) -> RegionResult | None:
        """The configuration stays: it serves both versions of the release."""
        return None

    # -- helpers -----------------------------------------------------------------------------

    def _check(self, job: NginxJob) -> str:
        try:
            result = check_config(job.mappings, job.options, source=job.source)
        except NginxMissingError:
            return "skipped (nginx is not installed here)"
        except RenderError as exc:
            raise _CheckFailed(str(exc)) from None
        if not result.passed:
            raise _CheckFailed("; ".join(result.problems))
        return "passed"

    def _reload(self, job: NginxJob, before: bytes | None) -> str | None:
        """Run the reload command; on failure put the previous file back. The problem, if any."""
        assert job.reload is not None
        ended = run_process(
            job.reload,
            shell=True,
            cwd=job.output.parent,
            env=os.environ,
            timeout=RELOAD_SECONDS,
            cancelled=self.cancelled,
            merge_errors=True,
        )
        passed = ended.returncode == 0
        tail = " ".join(ended.output.split())[-300:] or f"exit {ended.returncode}"
        detail = tail if ended.stopped is None else f"{ended.stopped}: {tail}"
        self.emit(
            ev.NginxReloaded(region=self.region, command=job.reload, passed=passed, detail=detail)
        )
        if passed:
            return None
        if before is None:
            job.output.unlink(missing_ok=True)
            return f"reload `{job.reload}` failed ({detail}); {job.output} was removed again"
        write_if_changed(job.output, before)  # byte for byte, through a link, mode kept
        return f"reload `{job.reload}` failed ({detail}); the previous {job.output} was put back"

    def _failed(self, scope: RegionScope, reason: str) -> StageRun:
        if self.recorded is not None and self.recorded.moved:
            # A resumed region whose traffic already moved: not "before traffic" any more.
            message = (
                f"nginx: {reason}; traffic moved before, as the record says: "
                "`rollout rollback` restores it"
            )
            return StageRun(RegionResult(self.region, Outcome.NEEDS_HUMAN, message), scope)
        failed = RegionResult(self.region, Outcome.FAILED_BEFORE_TRAFFIC, f"nginx: {reason}")
        return StageRun(failed, scope)


class _CheckFailed(Exception):
    """`nginx -t` refused the configuration."""


def _bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
