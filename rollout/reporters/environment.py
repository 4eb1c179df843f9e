"""Everything rollout's output touches outside the process, decided once per run.

The CLI builds one `OutputEnvironment` from the process's streams, its
environment variables and `--no-color`; reporters, previews and warnings write
through it, so colour, the live view and CI detection follow one set of rules.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Literal, TextIO

from rollout.redact import mask_secrets
from rollout.reporters.output import GuardedOutput, warn_to

if TYPE_CHECKING:
    from rich.console import Console

_SGR = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "cyan": "36"}


@dataclass
class OutputEnvironment:
    """The streams, whether standard output is a terminal, colour, width and the CI we run in."""

    stdout: TextIO | None
    stderr: TextIO | None
    stdout_is_terminal: bool
    stderr_is_terminal: bool
    color: bool
    width: int
    ci: str | None  # "github", "jenkins", "ci" (CI=true elsewhere), or None
    dumb_terminal: bool
    environ: Mapping[str, str]
    # Resolved now, because a signal handler may only call os.write on a descriptor.
    stderr_fd: int = 2
    _out: GuardedOutput | None = field(default=None, repr=False)
    _above: Callable[[str], None] | None = field(default=None, repr=False)
    _warn_above: bool = field(default=False, repr=False)

    @property
    def live_view(self) -> bool:
        """Whether a redrawing view fits: a real terminal, not a CI log that happens to be one."""
        return self.stdout_is_terminal and not self.dumb_terminal and self.ci is None

    @property
    def rich_tables(self) -> bool:
        """Whether the plan preview draws rich tables (a terminal, or colour forced into a pipe)."""
        return (self.stdout_is_terminal and not self.dumb_terminal) or self.color

    def write(self, line: str) -> None:
        """One line on standard output; a closed stream is said once and never stops the run."""
        if self._above is not None:
            self._above(line)
            return
        if self._out is None:
            self._out = GuardedOutput(lambda: self.stdout, warn=self.warn)
        self._out(line)

    def warn(self, text: str) -> None:
        """A line on standard error (above the live view while it runs); never raises."""
        if self._above is not None and self._warn_above:
            self._above(mask_secrets(text))
            return
        warn_to(self.stderr, text)

    def divert(self, above: Callable[[str], None] | None) -> None:
        """While a live view owns the terminal, lines print above it rather than through it.

        Warnings follow only when standard error is that terminal too, not a file.
        """
        self._above = above
        self._warn_above = above is not None and self.stderr_is_terminal

    def paint(self, text: str, style: str) -> str:
        """`text` in a colour (`red`, `green`, `yellow`, `bold`, `dim`, `cyan`) if colour is on."""
        if not self.color or style not in _SGR:
            return text
        return f"\x1b[{_SGR[style]}m{text}\x1b[0m"

    def console(self, file: IO[str] | None = None) -> Console:
        """A rich console that obeys this environment's colour and width, whatever rich detects."""
        from rich.console import Console  # noqa: PLC0415 (rich only where a view needs it)

        forced: Literal["auto", "standard"] = "auto" if self.stdout_is_terminal else "standard"
        return Console(
            file=file if file is not None else self.stdout,
            force_terminal=self.stdout_is_terminal or self.color,
            color_system=forced if self.color else None,
            no_color=not self.color,
            width=self.width,
            highlight=False,
            emoji=False,
        )


def detect_ci(environ: Mapping[str, str]) -> str | None:
    """Which CI runs us: GitHub Actions, Jenkins, any other that sets CI=true, or None."""
    if environ.get("GITHUB_ACTIONS") == "true":
        return "github"
    if environ.get("JENKINS_URL") or environ.get("BUILD_URL"):
        return "jenkins"
    if environ.get("CI", "").lower() not in ("", "0", "false", "no"):
        return "ci"
    return None


def color_wanted(environ: Mapping[str, str], *, no_color: bool, terminal: bool) -> bool:
    """Colour rules: --no-color and NO_COLOR win, then FORCE_COLOR, then TERM=dumb, then a tty."""
    if no_color or environ.get("NO_COLOR"):
        return False
    if environ.get("FORCE_COLOR"):
        return True
    if environ.get("TERM") == "dumb":
        return False
    return terminal


def detect_environment(
    environ: Mapping[str, str],
    *,
    no_color: bool = False,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> OutputEnvironment:
    """The environment of this process (or of the given streams), with `--no-color` applied."""
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    terminal = _is_terminal(out)
    return OutputEnvironment(
        stdout=out,
        stderr=err,
        stdout_is_terminal=terminal,
        stderr_is_terminal=_is_terminal(err),
        color=color_wanted(environ, no_color=no_color, terminal=terminal),
        width=_width(out, environ) if terminal else _columns(environ),
        ci=detect_ci(environ),
        dumb_terminal=environ.get("TERM") == "dumb",
        environ=environ,
        stderr_fd=_descriptor(err, 2),
    )


def _is_terminal(stream: TextIO | None) -> bool:
    if stream is None:
        return False
    with contextlib.suppress(OSError, ValueError, AttributeError):
        return stream.isatty()
    return False


def _descriptor(stream: TextIO | None, default: int) -> int:
    if stream is None:
        return -1
    with contextlib.suppress(OSError, ValueError, AttributeError):
        return stream.fileno()
    return default


def _columns(environ: Mapping[str, str]) -> int:
    with contextlib.suppress(ValueError):
        return max(40, int(environ.get("COLUMNS", "")))
    return 100


def _width(stream: TextIO | None, environ: Mapping[str, str]) -> int:
    with contextlib.suppress(OSError, ValueError, AttributeError):
        assert stream is not None
        columns = os.get_terminal_size(stream.fileno()).columns
        if columns > 0:
            return max(40, columns)
    return _columns(environ)
