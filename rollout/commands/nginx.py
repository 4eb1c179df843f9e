"""`rollout nginx render`: a mapping file as an nginx configuration, checked and written whole."""

from __future__ import annotations

from pathlib import Path

from rollout.commands.result import CommandResult, said
from rollout.exitcodes import ExitCode
from rollout.files import write_if_changed
from rollout.nginx.check import NginxMissingError, check_config
from rollout.nginx.mapping import load_mappings
from rollout.nginx.render import ProxyOptions, render_full, render_servers


def render_command(
    mappings_file: Path,
    options: ProxyOptions,
    *,
    output: Path | None,
    check: bool,
    form: str,
) -> tuple[CommandResult, str | None]:
    """The rendered text (None when refused), and what to say."""
    loaded = load_mappings(mappings_file)
    source = str(mappings_file)
    render = render_full if form == "full" else render_servers
    text = render(loaded.mappings, options).text
    warnings = [f"warning: {warning}" for warning in loaded.warnings]
    if check:
        try:
            checked = check_config(loaded.mappings, options, source=source)
        except NginxMissingError as exc:
            return said(
                ExitCode.ERROR, *warnings, f"error: --check: {exc}", "nothing written"
            ), None
        if not checked.passed:
            lines = [*warnings, *(f"error: {p}" for p in checked.problems), "nothing written"]
            return said(ExitCode.ERROR, *lines), None
    if output is None:
        return CommandResult(ExitCode.OK, tuple(warnings)), text
    try:
        changed = write_if_changed(output, text)
    except OSError as exc:
        return said(ExitCode.ERROR, f"error: cannot write {output}: {exc.strerror or exc}"), None
    verdict = "written" if changed else "unchanged"
    checked_note = ", nginx -t passed" if check else ""
    summary = f"{output}: {len(loaded.mappings)} domain(s), {verdict}{checked_note}"
    return CommandResult(ExitCode.OK, (*warnings, summary)), None
