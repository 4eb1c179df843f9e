"""GitHub Actions: workflow commands on the event stream, a step summary and step outputs.

When `GITHUB_ACTIONS=true`: `::group::` around a region's lines while regions run
one at a time, `::error::` with the reason for a region that failed or rolled
back and for terraform's errors (with file and line), `::add-mask::` for every
sensitive value before anything could print it, a markdown table appended to
`$GITHUB_STEP_SUMMARY` (and the `rollout promote` command as soon as a manual pause
waits), and the published versions and ARNs in `$GITHUB_OUTPUT`.
Values are escaped as the workflow-command rules require.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from rollout.engine import events as ev
from rollout.redact import hidden_values, mask_secrets

_FAILED = ("failed_before_traffic", "rolled_back", "needs_human")


def escape_data(text: str) -> str:
    """A workflow command's message: `%`, CR and LF escaped."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value: `:` and `,` escaped too."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def in_github_actions(environ: Mapping[str, str]) -> bool:
    """Whether this runs as a GitHub Actions step."""
    return environ.get("GITHUB_ACTIONS") == "true"


@dataclass
class GitHubReporter:
    """Turns events into GitHub's workflow commands and files; `write` prints one line."""

    write: Callable[[str], None] | None  # None: only the files (stdout carries JSON)
    summary_file: Path | None = None
    output_file: Path | None = None
    _open_group: str | None = None
    _running: set[str] = field(default_factory=set)
    _masked: set[str] = field(default_factory=set)
    _published: list[tuple[str, str, int, str]] = field(default_factory=list)
    _regions: list[tuple[str, str, str]] = field(default_factory=list)

    def __call__(self, event: ev.Event) -> None:  # noqa: PLR0912 (one case per event kind)
        self._mask_new_secrets()
        match event:
            case ev.RegionStarted(region=str(region)):
                self._running.add(region)
                if len(self._running) == 1 and self._open_group is None:
                    self._command(f"::group::rollout {region}")
                    self._open_group = region
                elif self._open_group is not None:  # regions in parallel: groups would mix
                    self._end_group()
            case ev.RegionFinished(region=str(region), outcome=outcome, message=message):
                self._running.discard(region)
                if self._open_group == region:
                    self._end_group()
                self._regions.append((region, outcome, message))
                if outcome in _FAILED:
                    title = escape_property(f"rollout {region}: {outcome.replace('_', ' ')}")
                    self._command(f"::error title={title}::{escape_data(mask_secrets(message))}")
            case ev.TerraformDiagnostic(severity="error", summary=summary, detail=detail):
                where = ""
                if event.file:
                    where = f" file={escape_property(event.file)}"
                    if event.line:
                        where += f",line={event.line}"
                text = escape_data(mask_secrets(f"{event.region} terraform: {summary}: {detail}"))
                self._command(f"::error{where}::{text}")
            case ev.PauseStarted(region=str(region), target=str(target), promote_command=command):
                self._paused(region, target, command)
            case ev.HookFinished(phase="on_pause", passed=False, hook=hook, detail=detail):
                text = f"{event.region} {event.target}: on_pause hook {hook} failed: {detail}"
                self._command(f"::warning::{escape_data(mask_secrets(text))}")
            case ev.VersionPublished(region=str(region), target=str(target)):
                self._published.append((region, target, event.version, event.arn))
            case ev.RolloutFinished(outcome=outcome, exit_code=code, message=message):
                if self._open_group is not None:
                    self._end_group()
                self._write_summary(outcome, code, message)
                self._write_outputs(outcome, code)

    # -- commands --------------------------------------------------------------------------

    def _command(self, line: str) -> None:
        if self.write is not None:
            self.write(line)

    def _end_group(self) -> None:
        self._command("::endgroup::")
        self._open_group = None

    def _mask_new_secrets(self) -> None:
        """`::add-mask::` each sensitive value once, before any line could show it."""
        for value in hidden_values():
            if value not in self._masked:
                self._masked.add(value)
                self._command(f"::add-mask::{escape_data(value)}")

    def _paused(self, region: str, target: str, command: str) -> None:
        """A notice while the run waits, and the command in the summary at once: a job
        cancelled during the wait still shows how it could have been released."""
        if not command:
            return
        shown = mask_secrets(command)
        title = escape_property(f"rollout {region} {target}: paused")
        self._command(f"::notice title={title}::{escape_data(f'run `{shown}`')}")
        if self.summary_file is not None:
            line = f"**{region} {target}** waits at a manual pause: run `{_cell(shown)}`"
            _append(self.summary_file, f"### rollout: paused\n\n{line}\n\n")

    # -- files -------------------------------------------------------------------------------

    def _write_summary(self, outcome: str, code: int, message: str) -> None:
        if self.summary_file is None:
            return
        lines = [
            f"### rollout: {outcome.replace('_', ' ')} (exit {code})",
            "",
            mask_secrets(message),
            "",
            "| region | outcome | detail |",
            "| --- | --- | --- |",
            *(
                f"| {region} | {state.replace('_', ' ')} | {_cell(mask_secrets(detail))} |"
                for region, state, detail in self._regions
            ),
        ]
        if self._published:
            lines += ["", "| region | target | version | ARN |", "| --- | --- | --- | --- |"]
            lines += [
                f"| {region} | {target} | {version} | `{arn}` |"
                for region, target, version, arn in self._published
            ]
        _append(self.summary_file, "\n".join(lines) + "\n\n")

    def _write_outputs(self, outcome: str, code: int) -> None:
        if self.output_file is None:
            return
        versions = "\n".join(
            f"{region} {target} {version}" for region, target, version, _ in self._published
        )
        arns = "\n".join(arn for *_, arn in self._published)
        text = f"outcome={outcome}\nexit_code={code}\n"
        text += _multiline("versions", versions) + _multiline("arns", arns)
        _append(self.output_file, text)


def _multiline(name: str, value: str) -> str:
    """`NAME<<DELIMITER` … `DELIMITER`, with a delimiter no value line can be."""
    delimiter = f"ROLLOUT_{secrets.token_hex(8)}"
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _append(path: Path, text: str) -> None:
    # A failing file must not stop the rollout: the reporter sink says so once and goes on.
    with path.open("a", encoding="utf-8") as file:
        file.write(text)
