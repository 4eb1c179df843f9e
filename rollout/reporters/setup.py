"""The reporters a run writes to, chosen from the command line and the environment.

The main view goes to standard output (lines or JSON); `--events-file` adds the
JSON stream in a file, `--junit` a JUnit XML report; GitHub Actions adds
annotations, a step summary and step outputs. All of them read the same events,
and all are closed at the end.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from rollout.engine import events as ev
from rollout.reporters.event_json import JsonLinesReporter
from rollout.reporters.event_lines import LineReporter
from rollout.reporters.github import GitHubReporter, in_github_actions
from rollout.reporters.junit import Goal, JUnitReporter, check_writable
from rollout.reporters.output import FanOut, GuardedOutput, Reporter, guarded_sink


class ReportFileError(Exception):
    """A report file cannot be written: said before anything changes (exit 2)."""


@dataclass(frozen=True)
class ReportOptions:
    """What the user asked to see: the main output's format, and extra files."""

    output: str = "text"
    events_file: Path | None = None
    junit: Path | None = None
    goal: Goal = Goal.RELEASE  # what the run is for: which region endings pass in the report


class _FileReporter:
    """JSON lines into a file the user named; closing it ends the file."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lines = JsonLinesReporter(GuardedOutput(lambda: stream))

    def __call__(self, event: ev.Event) -> None:
        self._lines(event)

    def close(self) -> None:
        self._stream.close()


def open_events_file(path: Path) -> TextIO:
    """The file for `--events-file`, opened now so a bad path is said before anything moves."""
    try:
        return path.open("w", encoding="utf-8")
    except OSError as exc:
        raise ReportFileError(
            f"--events-file {path}: cannot write it ({exc.strerror or exc})"
        ) from exc


def open_junit(path: Path, goal: Goal) -> JUnitReporter:
    """The `--junit` report, checked now so a bad path is said before anything moves."""
    try:
        check_writable(path)
    except OSError as exc:
        raise ReportFileError(f"--junit {path}: cannot write it ({exc.strerror or exc})") from exc
    return JUnitReporter(path, goal)


def open_reporters(options: ReportOptions, environ: Mapping[str, str]) -> FanOut:
    """Every reporter of a run, in the order they must see each event."""
    write = GuardedOutput()
    reporters: list[Reporter] = []
    # Checked first: a bad --junit path must leave no events file behind either.
    junit = open_junit(options.junit, options.goal) if options.junit is not None else None
    if in_github_actions(environ):
        summary, outputs = environ.get("GITHUB_STEP_SUMMARY"), environ.get("GITHUB_OUTPUT")
        github = GitHubReporter(
            None if options.output == "json" else write,  # commands would break a JSON stream
            Path(summary) if summary else None,
            Path(outputs) if outputs else None,
        )
        # GitHub's first: a sensitive value is masked before any line could show it.
        reporters.append(guarded_sink(github))
    if options.events_file is not None:
        reporters.append(guarded_sink(_FileReporter(open_events_file(options.events_file))))
    main = JsonLinesReporter(write) if options.output == "json" else LineReporter(write)
    reporters.append(guarded_sink(main))
    if junit is not None:
        reporters.append(guarded_sink(junit))
    return FanOut(reporters)
