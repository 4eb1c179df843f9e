"""Plain lines for a pipe, a CI log or a dumb terminal: one line per event, a heartbeat during
long waits, and a summary table at the end.

A 10-minute bake would otherwise be 10 silent minutes, which reads as a hang
(and some CI systems kill a job that prints nothing for a while).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from rollout.engine import events as ev
from rollout.engine.ports import Clock
from rollout.redact import mask_secrets
from rollout.reporters.board import Board, SummaryRow, summary_rows, waiting_parts
from rollout.reporters.event_lines import format_line

Paint = Callable[[str, str], str]

DEFAULT_HEARTBEAT = 30.0


def _no_paint(text: str, _style: str) -> str:
    return text


class PlainReporter:
    """Timestamped lines; `beat()` adds a line per waiting row after `heartbeat` silent seconds."""

    def __init__(
        self,
        write: Callable[[str], None],
        clock: Clock,
        *,
        heartbeat: float = DEFAULT_HEARTBEAT,
        paint: Paint = _no_paint,
    ) -> None:
        self._write = write
        self._clock = clock
        self._paint = paint
        self.heartbeat = heartbeat
        self.board = Board()
        # The engine's events and the heartbeat thread write from different threads.
        self._lock = threading.Lock()
        self._last_write = clock.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __call__(self, event: ev.Event) -> None:
        with self._lock:
            self.board.apply(event)
            if isinstance(event, ev.RolloutFinished):
                # Each rollout its own table (the demo runs two), and the outcome with its
                # reason stays the last line, where a CI log is read first.
                self._summarise()
            self._line(mask_secrets(format_line(event)), _style(event))

    def beat(self) -> None:
        """Say where each waiting row stands, if nothing was written for `heartbeat` seconds."""
        with self._lock:
            if self.heartbeat <= 0 or self._stop.is_set():
                return
            if self._clock.monotonic() - self._last_write < self.heartbeat:
                return
            now = self._clock.now()
            stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
            waiting = [row for row in self.board.rows.values() if row.waiting and row.target]
            for row in waiting:
                text = " · ".join(waiting_parts(self.board, row, now))
                self._line(mask_secrets(f"{stamp} {row.region} {row.target}: {text}"), "dim")
            if not waiting:  # nothing to report on: wait a whole interval again
                self._last_write = self._clock.monotonic()

    def start(self, wait: Callable[[float], bool] | None = None) -> None:
        """Beat from a timer thread until `close`; `wait(seconds)` returns True once stopped."""
        if self.heartbeat <= 0 or self._thread is not None:
            return
        every = min(1.0, self.heartbeat / 2)
        waiter = wait or self._stop.wait

        def run() -> None:
            while not waiter(every):
                self.beat()

        self._thread = threading.Thread(target=run, name="rollout-heartbeat", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop the heartbeat and print the summary table."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        with self._lock:
            self._summarise()

    def _summarise(self) -> None:
        rows = summary_rows(self.board)
        if any(row.target != "-" for row in rows):
            for line in summary_table(rows):
                self._write(mask_secrets(line))
        self.board = Board()

    def _line(self, text: str, style: str) -> None:
        self._write(self._paint(text, style) if style else text)
        self._last_write = self._clock.monotonic()


def _style(event: ev.Event) -> str:
    match event:
        case ev.RolloutFinished(exit_code=0) | ev.RegionFinished(outcome="succeeded"):
            return "green"
        case ev.RollbackStarted() | ev.RollbackFailed() | ev.DriftDetected():
            return "red"
        case ev.RolloutFinished() | ev.RegionFinished(outcome="rolled_back" | "needs_human"):
            return "red"
        case ev.HookFinished(passed=False) | ev.TerraformDiagnostic(severity="error"):
            return "red"
        case ev.AlarmChanged(state="ALARM") | ev.PauseStarted():
            return "yellow"
    return ""


_HEADINGS = SummaryRow("region", "target", "version", "outcome", "duration", "reason")


def summary_table(rows: list[SummaryRow]) -> list[str]:
    """The final table as aligned text: region, target, old → new, outcome, duration, reason."""
    table = [_HEADINGS, *rows]
    columns = [
        [row.region for row in table],
        [row.target for row in table],
        [row.versions for row in table],
        [row.outcome for row in table],
        [row.duration for row in table],
    ]
    widths = [max(len(cell) for cell in column) for column in columns]
    lines = ["summary:"]
    for index, row in enumerate(table):
        cells = [column[index].ljust(width) for column, width in zip(columns, widths, strict=True)]
        lines.append(("  " + "  ".join(cells) + "  " + row.reason).rstrip())
    return lines
