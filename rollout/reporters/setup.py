"""The reporters a run writes to, chosen from the command line and the environment.

The main view goes to standard output (lines or JSON); `--events-file` adds the
JSON stream in a file, `--junit` a JUnit XML report; GitHub Actions adds
annotations, a step summary and step outputs. All of them read the same events,
and all are closed at the end.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from rollout.clock import SystemClock
from rollout.engine import events as ev
from rollout.engine.ports import Clock
from rollout.reporters.environment import OutputEnvironment
from rollout.reporters.event_json import JsonLinesReporter
from rollout.reporters.github import GitHubReporter, in_github_actions
from rollout.reporters.junit import Goal, JUnitReporter, check_writable
from rollout.reporters.output import FanOut, GuardedOutput, Reporter, guarded_sink
from rollout.reporters.plain import DEFAULT_HEARTBEAT, PlainReporter


class ReportFileError(Exception):
    """A report file cannot be written: said before anything changes (exit 2)."""


@dataclass(frozen=True)
class ReportOptions:
    """What the user asked to see: the main output's format, and extra files."""

    output: str = "text"
    events_file: Path | None = None
    junit: Path | None = None
    goal: Goal = Goal.RELEASE  # what the run is for: which region endings pass in the report
    heartbeat: float = DEFAULT_HEARTBEAT  # seconds of silence before plain lines say "still here"


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


def open_reporters(
    options: ReportOptions, environment: OutputEnvironment, clock: Clock | None = None
) -> FanOut:
    """Every reporter of a run, in the order they must see each event."""
    environ, write = environment.environ, environment.write
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
    main = _main_view(options, environment, clock or SystemClock())
    reporters.append(guarded_sink(main, environment.warn))
    if junit is not None:
        reporters.append(guarded_sink(junit, environment.warn))
    return FanOut(reporters)


def _main_view(
    options: ReportOptions, environment: OutputEnvironment, clock: Clock
) -> ev.EventSink:
    """JSON lines, the live view on a terminal, or plain lines with a heartbeat."""
    if options.output == "json":
        return JsonLinesReporter(environment.write)
    if environment.live_view:
        from rollout.reporters.live import LiveReporter  # noqa: PLC0415 (rich: terminals only)

        return LiveReporter(environment, clock)
    plain = PlainReporter(
        environment.write, clock, heartbeat=options.heartbeat, paint=environment.paint
    )
    plain.start()
    return plain
