"""Where reports are written: a closed pipe or a full disk never stops a rollout midway.

`rollout apply --output json | head -3` closes standard output after three
lines; the rollout must still reach its end (or roll back) and exit with its
own code, so an output failure is said once on standard error and the rest of
the output is dropped.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from rollout.redact import mask_secrets

if TYPE_CHECKING:  # the event classes cost a validate or --help run 20 ms to define
    from rollout.engine import events as ev


class GuardedOutput:
    """Writes whole lines to a stream, flushed at once; after a failure, writes nothing more."""

    def __init__(
        self,
        stream: Callable[[], TextIO | None] = lambda: sys.stdout,
        warn: Callable[[str], None] | None = None,
    ) -> None:
        self._stream = stream
        self._warn = warn
        self.failure: str | None = None

    def __call__(self, line: str) -> None:
        if self.failure is not None:
            return
        stream: TextIO | None = self._stream()
        if stream is None:  # started with the descriptor closed (`>&-`): nowhere to write
            self.failure = "standard output is closed"
            return
        try:
            stream.write(line + "\n")
            stream.flush()
        except (OSError, ValueError) as exc:  # a closed pipe, a full disk, a closed file
            self.failure = str(exc) or type(exc).__name__
            silence(stream)
            (self._warn or warn)(f"warning: output stopped ({self.failure}); the rollout goes on")


def silence(stream: TextIO) -> None:
    """Point the stream's descriptor at /dev/null, so the flush at exit cannot fail too."""
    with contextlib.suppress(OSError, ValueError):
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, stream.fileno())
        os.close(null)


def warn(text: str) -> None:
    """A line on standard error, if standard error is still there; never raises."""
    warn_to(sys.stderr, text)


def warn_to(stream: TextIO | None, text: str) -> None:
    """A masked line on `stream` (standard error); a failed write silences it, never raises."""
    if stream is None:  # started with standard error closed
        return
    try:
        stream.write(mask_secrets(text) + "\n")
        stream.flush()
    except (OSError, ValueError):
        # A closed terminal: the flush at exit would fail again and turn the exit code into 120.
        silence(stream)


class Reporter(Protocol):
    """A consumer of the event stream; `close` ends its output (a table, a file)."""

    def __call__(self, event: ev.Event) -> None: ...

    def close(self) -> None: ...


class GuardedReporter:
    """A reporter that never raises: its failure must not stop the rollout it reports."""

    def __init__(self, reporter: ev.EventSink, warn: Callable[[str], None] | None = None) -> None:
        self._reporter = reporter
        self._warn = warn
        self._failed = False

    def __call__(self, event: ev.Event) -> None:
        self._guard(self._reporter, event)

    def close(self) -> None:
        close = getattr(self._reporter, "close", None)
        if close is not None:
            self._guard(lambda _event: close(), None)

    def ended_without_run(self, exit_code: int, lines: Sequence[str]) -> None:
        """Tell a reporter that wants it (JUnit) why the command ended without a rollout."""
        ended = getattr(self._reporter, "ended_without_run", None)
        if ended is not None:
            self._guard(lambda _argument: ended(exit_code, lines), None)

    def _guard(self, call: Callable[[Any], None], argument: Any) -> None:
        if self._failed:
            return
        try:
            call(argument)
        except Exception as exc:
            self._failed = True
            problem = f"{type(exc).__name__}: {exc}"
            (self._warn or warn)(f"warning: a reporter failed ({problem}); it is skipped")


def guarded_sink(
    reporter: ev.EventSink, warn: Callable[[str], None] | None = None
) -> GuardedReporter:
    """`reporter`, made safe to call from the engine; its failure is said through `warn`."""
    return GuardedReporter(reporter, warn)


class FanOut:
    """One sink that hands every event to each reporter in order, and closes them all."""

    def __init__(self, reporters: list[Reporter]) -> None:
        self.reporters = reporters

    def __call__(self, event: ev.Event) -> None:
        for reporter in self.reporters:
            reporter(event)

    def ended_without_run(self, exit_code: int, lines: Sequence[str]) -> None:
        """The command ended without a rollout's last event (refused, or nothing to do)."""
        for reporter in self.reporters:
            ended = getattr(reporter, "ended_without_run", None)
            if ended is not None:
                ended(exit_code, lines)

    def close(self) -> None:
        for reporter in self.reporters:
            reporter.close()
