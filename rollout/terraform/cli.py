"""The terraform binary, for one region: init, workspace, plan to a file, apply exactly that file.

python-terraform builds the argument lists; rollout runs them itself (through the
one process runner) so that `-json` progress streams line by line, each region
has its own environment (`TF_DATA_DIR`), and a cancelled run sends terraform
SIGINT, which lets it release its state lock. Nothing else builds a terraform
command line.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import stat
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from python_terraform import IsFlagged, Terraform

from rollout.processes import ProcessEnd, StopPolicy, run_process
from rollout.terraform.messages import (
    ChangeSummary,
    DeclaredOutputs,
    Diagnostic,
    Message,
    PlannedChange,
    parse_line,
)

__all__ = [
    "OutputValue",
    "SavedPlan",
    "TerraformCli",
    "TerraformError",
    "TerraformSettings",
    "binary_version",
]

OLDEST_VERSION = (1, 0)  # the first with a stable `-json` UI for plan and apply
# SIGINT lets terraform stop its operations and release the state lock; it may take a while.
_STOP = StopPolicy(signal.SIGINT, grace_seconds=60.0)
_QUICK_SECONDS = 120.0  # version, workspace and output answer at once


class TerraformError(Exception):
    """Terraform refused or failed; the message says how, in one line."""


@dataclass(frozen=True)
class TerraformSettings:
    """What the plan asks of terraform in one region, with the region's values filled in."""

    binary: str
    dir: Path
    workspace: str | None = None
    backend_config: Mapping[str, str] = field(default_factory=dict)
    vars: Mapping[str, Any] = field(default_factory=dict)
    var_files: Sequence[str] = ()
    plugin_dir: Path | None = None
    timeout_seconds: float = 3600.0


@dataclass(frozen=True)
class SavedPlan:
    """A plan written to a private file, and what it would do."""

    path: Path
    changes: bool
    summary: ChangeSummary | None
    planned: tuple[PlannedChange, ...]
    sensitive: Mapping[str, bool]  # the outputs it declares


@dataclass(frozen=True)
class OutputValue:
    """One output, as text for a placeholder."""

    text: str
    sensitive: bool


def binary_version(binary: str) -> tuple[int, ...]:
    """The binary's version; TerraformError when it is missing or older than 1.0."""
    found = shutil.which(binary)
    if found is None:
        raise TerraformError(
            f"terraform binary {binary!r} not found on PATH (install terraform or OpenTofu, "
            "or set terraform.binary in the plan)"
        )
    ended = run_process(
        [found, "version", "-json"],
        cwd=Path.cwd(),
        env=_quiet_environment(os.environ),
        timeout=_QUICK_SECONDS,
        cancelled=lambda: False,
    )
    text = ended.output.strip()
    try:
        version = str(json.loads(text)["terraform_version"])
    except (ValueError, KeyError, TypeError):
        # Versions before 0.13 have no `version -json`: old enough to refuse either way.
        match = re.search(r"v(\d+\.\d+\.\d+)", text)
        version = match.group(1) if match else "unknown"
    numbers = tuple(int(part) for part in re.findall(r"\d+", version)[:3])
    if numbers[:2] < OLDEST_VERSION:
        raise TerraformError(
            f"{found} is terraform {version}; rollout needs 1.0 or later (its -json output)"
        )
    return numbers


class TerraformCli:
    """One region's terraform: its own data directory, environment and saved plans."""

    def __init__(
        self,
        settings: TerraformSettings,
        data_dir: Path,
        *,
        on_message: Callable[[Message], None],
        cancelled: Callable[[], bool],
    ) -> None:
        self.settings = settings
        self.data_dir = data_dir
        self.on_message = on_message
        self.cancelled = cancelled
        self.library = Terraform(working_dir=str(settings.dir), terraform_bin_path=settings.binary)
        # The region's own `.terraform`: regions of one `dir` run side by side.
        self.environment = {
            **_quiet_environment(os.environ),
            "TF_DATA_DIR": str(data_dir),
        }

    # -- the commands ----------------------------------------------------------------------

    def init(self) -> None:
        """`terraform init` with the region's backend configuration."""
        _private_dir(self.data_dir)
        # No -reconfigure: a backend changed since the last run in this data directory is an
        # error naming the way out, not a silent start from another (maybe empty) state.
        options: dict[str, Any] = {
            "backend_config": dict(self.settings.backend_config),
            "input": False,
            "no_color": IsFlagged,
        }
        if self.settings.plugin_dir is not None:
            options["plugin_dir"] = str(self.settings.plugin_dir)
        self._run("init", self._argv("init", **options), self.settings.timeout_seconds)
        if self.settings.workspace:
            self._select_workspace(self.settings.workspace)

    def plan(self, plans_dir: Path) -> SavedPlan:
        """`terraform plan -out`, to a private file; what it would change."""
        _private_dir(plans_dir)
        plan_file = plans_dir / "region.tfplan"
        # The plan's own `vars` last: they win over the var files, as -var wins on a command line.
        var_files = [*self.settings.var_files, str(self._write_vars(plans_dir))]
        seen: list[Message] = []
        ended = self._run(
            "plan",
            self._argv(
                "plan",
                input=False,
                json=IsFlagged,
                no_color=IsFlagged,
                detailed_exitcode=IsFlagged,
                out=str(plan_file),
                var_file=var_files,
            ),
            self.settings.timeout_seconds,
            seen=seen,
            accept=(0, 2),
        )
        if plan_file.exists():  # saved plans hold secrets in clear text
            plan_file.chmod(stat.S_IRUSR | stat.S_IWUSR)
        summaries = [m for m in seen if isinstance(m, ChangeSummary)]
        declared = [m for m in seen if isinstance(m, DeclaredOutputs)]
        return SavedPlan(
            path=plan_file,
            changes=ended.returncode == 2,
            summary=summaries[-1] if summaries else None,
            planned=tuple(m for m in seen if isinstance(m, PlannedChange)),
            sensitive=declared[-1].sensitive if declared else {},
        )

    def apply(self, saved: SavedPlan) -> ChangeSummary | None:
        """Apply exactly the saved plan (never a fresh one), then delete it."""
        seen: list[Message] = []
        try:
            argv = self._argv(
                "apply", str(saved.path), input=False, json=IsFlagged, no_color=IsFlagged
            )
            self._run("apply", argv, self.settings.timeout_seconds, seen=seen)
        finally:
            saved.path.unlink(missing_ok=True)
        summaries = [m for m in seen if isinstance(m, ChangeSummary)]
        return summaries[-1] if summaries else None

    def outputs(self) -> dict[str, OutputValue]:
        """The state's outputs, as the text a placeholder takes; sensitive ones flagged."""
        ended = self._run(
            "output", self._argv("output", json=IsFlagged, no_color=IsFlagged), _QUICK_SECONDS
        )
        try:
            document = json.loads(ended.output or "{}")
        except ValueError as exc:
            raise TerraformError(f"terraform output -json wrote something else: {exc}") from None
        return {
            str(name): OutputValue(_as_text(entry.get("value")), bool(entry.get("sensitive")))
            for name, entry in document.items()
        }

    # -- running ---------------------------------------------------------------------------

    def _argv(self, command: str, *arguments: str, **options: Any) -> list[str]:
        argv = self.library.generate_cmd_string(command, *arguments, **options)
        return [str(part) for part in argv]

    def _select_workspace(self, name: str) -> None:
        # `select -or-create` needs 1.4; select, then create, works from 1.0 on.
        selected = self._start(
            self._argv("workspace select", name, no_color=IsFlagged), _QUICK_SECONDS
        )
        if selected.returncode == 0:
            return
        self._run(
            "workspace new",
            self._argv("workspace new", name, no_color=IsFlagged),
            _QUICK_SECONDS,
        )

    def _run(
        self,
        what: str,
        argv: list[str],
        timeout: float,
        *,
        seen: list[Message] | None = None,
        accept: tuple[int, ...] = (0,),
    ) -> ProcessEnd:
        ended = self._start(argv, timeout, seen=seen)
        if ended.stopped is not None:
            raise TerraformError(f"terraform {what} {ended.stopped}")
        if ended.returncode in accept:
            return ended
        if ended.returncode is not None and ended.returncode < 0:
            raise TerraformError(
                f"terraform {what} was killed (signal {-ended.returncode}); "
                f"{_error_text(ended.errors or ended.output)}"
            )
        errors = [m for m in seen or [] if isinstance(m, Diagnostic) and m.severity == "error"]
        locked = next((d for d in errors if "state lock" in d.summary), None)
        if locked is not None:
            reason = self._lock_advice(locked)
        elif errors:
            reason = "; ".join(d.describe() for d in errors)
        else:
            reason = _error_text(ended.errors or ended.output)
        if "Backend configuration changed" in reason:
            reason = (
                f"{reason}; the backend configuration differs from the last run here: move the "
                f"state yourself (TF_DATA_DIR={self.data_dir} terraform init -migrate-state), or "
                f"remove {self.data_dir} to start from what the new backend holds"
            )
        raise TerraformError(f"terraform {what} failed (exit {ended.returncode}): {reason}")

    def _lock_advice(self, locked: Diagnostic) -> str:
        """A state lock another terraform holds (or a killed one left): never broken silently."""
        found = re.search(r"ID:\s+(\S+)", locked.detail)
        who = re.search(r"Who:\s+(\S+)", locked.detail)
        holder = f" held by {who.group(1)}" if who else ""
        if found is None:
            return f"{locked.summary}{holder}"
        return (
            f"{locked.summary}{holder} (lock {found.group(1)}); if no terraform runs on this "
            f"state any more, `terraform force-unlock {found.group(1)}` in {self.settings.dir} "
            "releases it"
        )

    def _start(
        self,
        argv: list[str],
        timeout: float,
        *,
        seen: list[Message] | None = None,
    ) -> ProcessEnd:
        def on_line(line: str) -> None:
            message = parse_line(line)
            if message is None:
                return
            if seen is not None:
                seen.append(message)
            self.on_message(message)

        return run_process(
            argv,
            cwd=self.settings.dir,
            env=self.environment,
            timeout=timeout,
            cancelled=self.cancelled,
            on_line=on_line,
            stop=_STOP,
        )

    def _write_vars(self, plans_dir: Path) -> Path:
        """The plan's `vars` as a JSON var file: any value (lists, maps) passes as written."""
        path = plans_dir / "rollout.tfvars.json"
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            json.dump(dict(self.settings.vars), file)
        return path


def new_plans_dir() -> Path:
    """A private folder for one region's saved plan and variables (mode 0700)."""
    return Path(tempfile.mkdtemp(prefix="rollout-terraform-"))


def _private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)


def _quiet_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """Terraform as automation runs it: no prompts, no update check, no colour."""
    return {
        **environ,
        "TF_IN_AUTOMATION": "1",
        "TF_INPUT": "0",
        "CHECKPOINT_DISABLE": "1",
    }


def _as_text(value: Any) -> str:
    """An output as placeholder text: strings as they are, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _error_text(text: str) -> str:
    """What terraform said went wrong, in one line: its `Error: …` paragraphs, else all of it
    (a JSON line stands for its message)."""
    lines = [_plain(line) for line in text.splitlines() if line.strip()]
    errors = [i for i, line in enumerate(lines) if line.startswith("Error")]
    # An error's explanation follows it; keep the first error and what it says after.
    shown = lines[errors[0] :] if errors else lines
    return " ".join(" ".join(shown).split())[:500] or "no output"


def _plain(line: str) -> str:
    """A `-json` line's message, or the line as written."""
    if line.startswith("{"):
        with contextlib.suppress(ValueError, AttributeError):
            return str(json.loads(line).get("@message", line)).strip()
    return line.strip()


def scratch_data_dir(persistent: Path) -> Path:
    """A private copy of a region's data directory, for a preview that must not touch the
    live one (an apply may be using it). Provider binaries, large and never written in
    place, are hard links where the disk allows; the rest is copied."""
    scratch = Path(tempfile.mkdtemp(prefix="rollout-terraform-data-"))
    if not persistent.is_dir():
        return scratch

    def link_or_copy(source: str, target: str) -> None:
        if (persistent / "providers") in Path(source).parents:
            with contextlib.suppress(OSError):
                os.link(source, target)
                return
        shutil.copy2(source, target)

    shutil.copytree(persistent, scratch, dirs_exist_ok=True, copy_function=link_or_copy)
    return scratch
