"""The terminal's live view: a table of every region x target, redrawn in place.

Rich is imported here only, and this module only when standard output is a
terminal, so `rollout --help` and CI runs never load it. The view is transient:
the scrollback keeps the important lines printed above it and the summary.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import IO, TextIO, cast

from rich.console import Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from rollout.engine import events as ev
from rollout.engine.ports import Clock
from rollout.redact import mask_secrets
from rollout.reporters.board import Board, Row, SummaryRow, format_left, summary_rows
from rollout.reporters.environment import OutputEnvironment
from rollout.reporters.event_lines import format_line
from rollout.reporters.output import silence

_STAGE_STYLES = {
    "done": "green",
    "rolled back": "red",
    "rolling back": "red",
    "failed": "red",
    "needs a human": "red",
    "rollback failed": "red",
    "drift": "red",
    "paused": "yellow",
    "baking": "cyan",
    "hook": "magenta",
}
_BAR = 10


class LiveReporter:
    """Keeps a board of the rollout and lets rich redraw it a few times a second."""

    def __init__(self, environment: OutputEnvironment, clock: Clock) -> None:
        self._environment = environment
        self._clock = clock
        self.board = Board()
        self._lock = threading.Lock()  # the engine's threads write, rich's thread reads
        # Rich needs only write, flush, isatty and encoding of its file.
        self._console = environment.console(cast("IO[str]", _GuardedStream(environment)))
        self._live = Live(
            console=self._console,
            get_renderable=self._render,
            refresh_per_second=4,
            transient=True,
            # Nothing else writes to the terminal: warnings come through the environment.
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._started = False

    def __call__(self, event: ev.Event) -> None:
        try:
            with self._lock:
                self.board.apply(event)
        except Exception:
            # The guard above skips this reporter from now on: give the terminal back first.
            self.close()
            raise
        if not self._started:
            self._started = True
            self._environment.divert(self._print_above)
            self._live.start()
        if isinstance(event, ev.RolloutFinished):
            # Each rollout its own table (the demo runs two): said as it ends, then anew.
            self.close()
            return
        if _important(event):
            self._print_above(mask_secrets(format_line(event)), style="red")

    def close(self) -> None:
        """Stop redrawing; leave the summary table and the outcome in the scrollback."""
        if self._started:
            self._started = False
            self._live.stop()
            self._environment.divert(None)
        with self._lock:
            rows = summary_rows(self.board)
            finished = self.board.finished
            self.board = Board()
        if any(row.target != "-" for row in rows):
            self._console.print(_summary_table(rows))
        if finished is not None:
            style = "green" if finished.exit_code == 0 else "red"
            self._console.print(Text(mask_secrets(format_line(finished)), style=style))

    def _print_above(self, line: str, style: str = "") -> None:
        self._console.print(Text(line, style=style))

    def _render(self) -> RenderableType:
        with self._lock:
            return _board_table(self.board, self._clock.now())


def _important(event: ev.Event) -> bool:
    """Lines worth keeping in the scrollback while the view redraws above them."""
    match event:
        case ev.RollbackStarted() | ev.RollbackFailed() | ev.DriftDetected():
            return True
        case ev.HookFinished(passed=False) | ev.TerraformDiagnostic(severity="error"):
            return True
        case ev.AlarmChanged(state="ALARM"):
            return True
        case ev.RegionFinished(outcome="rolled_back" | "needs_human" | "failed_before_traffic"):
            return True
    return False


def _board_table(board: Board, now: datetime) -> RenderableType:
    table = Table(box=None, pad_edge=False, header_style="bold")
    for heading in ("region", "target", "stage", "traffic", "step", "next", "alarms", ""):
        table.add_column(heading, no_wrap=heading != "")
    for row in board.rows.values():
        table.add_row(
            row.region,
            row.target or "-",
            Text(row.stage, style=_STAGE_STYLES.get(row.stage, "")),
            _bar(row),
            f"{row.step[0]}/{row.step[1]}" if row.step else "",
            _next(row, now),
            board.alarm_text(row.region) if row.is_target else "",
            mask_secrets(row.hook or row.reason or ""),
        )
    return Group(table)


def _bar(row: Row) -> Text:
    """`7 ████████░░ 8  80%`: the old version on the left, the new one filling in."""
    if not row.is_target or row.weight is None:
        return Text("")
    filled = round(row.weight / 100 * _BAR)
    text = Text(f"{row.old if row.old is not None else '?'} ")
    text.append("█" * filled, style="green")
    text.append("░" * (_BAR - filled), style="dim")
    text.append(f" {row.new if row.new is not None else '?'} {row.weight:>4g}%")
    return text


def _next(row: Row, now: datetime) -> str:
    if row.stage == "paused":
        return "paused — run rollout promote"
    if row.bake_ends is None:
        return ""
    which = "final bake" if row.final_bake else "bake"
    return f"{which} {format_left(row.bake_ends - now)} left"


def _summary_table(rows: list[SummaryRow]) -> Table:
    table = Table(title="summary", title_justify="left", header_style="bold")
    for heading in ("region", "target", "version", "outcome", "duration", "reason"):
        table.add_column(heading, overflow="fold")
    for row in rows:
        style = "green" if row.outcome in ("succeeded", "nothing to do") else "red"
        table.add_row(
            row.region,
            row.target,
            row.versions,
            Text(row.outcome, style=style),
            row.duration,
            mask_secrets(row.reason),
        )
    return table


class _GuardedStream:
    """The terminal for rich: a closed terminal is said once, then writes go nowhere."""

    def __init__(self, environment: OutputEnvironment) -> None:
        self._environment = environment
        self._failed = False

    @property
    def encoding(self) -> str:
        return getattr(self._environment.stdout, "encoding", None) or "utf-8"

    def isatty(self) -> bool:
        return self._environment.stdout_is_terminal

    def write(self, text: str) -> int:
        stream = self._environment.stdout
        if not self._failed and stream is not None:
            try:
                stream.write(text)
            except (OSError, ValueError) as exc:
                self._fail(stream, exc)
        return len(text)

    def flush(self) -> None:
        stream = self._environment.stdout
        if not self._failed and stream is not None:
            try:
                stream.flush()
            except (OSError, ValueError) as exc:
                self._fail(stream, exc)

    def _fail(self, stream: TextIO, exc: Exception) -> None:
        # The rollout goes on (or rolls back) whatever happens to the terminal watching it.
        self._failed = True
        silence(stream)
        self._environment.divert(None)
        problem = str(exc) or type(exc).__name__
        self._environment.warn(f"warning: output stopped ({problem}); the rollout goes on")
