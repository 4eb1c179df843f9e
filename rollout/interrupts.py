"""Ctrl-C, SIGTERM (a cancelled CI job) and SIGHUP (a closed terminal) during a rollout.

The first signal asks the engine to roll back what is in flight. CI systems
send more signals while that runs (GitHub Actions: SIGINT, then SIGTERM 7.5 s
later); those must not abandon the rollback. Only a second Ctrl-C typed on a
terminal stops at once, leaving the recorded state for `rollback` or `resume`; not
under CI, whose runners may give a job a terminal and signal it twice.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable
from types import FrameType

from rollout.exitcodes import ExitCode

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


WHAT_IT_MEANS = {
    "SIGINT": "Ctrl-C, or a cancelled CI job",
    "SIGTERM": "a cancelled CI job, or a stop request",
    "SIGHUP": "the terminal closed",
}


def signal_reason(name: str) -> str:
    """`SIGTERM received (a cancelled CI job, or a stop request)`: why a rollout rolled back."""
    return f"{name} received ({WHAT_IT_MEANS.get(name, 'a signal')})"


def stop_on_signals(
    interrupted: threading.Event,
    plan_file: str,
    stderr_fd: int = 2,
    received: Callable[[str], None] = lambda _name: None,
    *,
    in_ci: bool = False,
) -> None:
    """Set `interrupted` on the first signal; on a terminal, a second Ctrl-C exits at once (4).

    `stderr_fd` is the output environment's standard error, resolved before any signal;
    `received` is told the first signal's name, so the rollback can say why it began.
    """
    on_terminal = os.isatty(0) and not in_ci  # a person who can type a second Ctrl-C

    def _say(text: str) -> None:
        # Only os.write on a descriptor is async-signal-safe: the stream objects' locks may be
        # held by the very write this signal interrupted. A closed stderr must not stop the
        # rollback.
        if stderr_fd >= 0:
            with contextlib.suppress(OSError):
                os.write(stderr_fd, text.encode())

    def handle(signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if not interrupted.is_set():
            received(name)
            interrupted.set()
            again = (
                "; press Ctrl-C again to stop at once and leave it as it is" if on_terminal else ""
            )
            _say(f"{name}: rolling back what is in flight{again}\n")
            return
        if signum == signal.SIGINT and on_terminal:
            _say(
                f"{name}: stopped at once. The state is recorded: `rollout rollback -f "
                f"{plan_file}` restores the routing from before the rollout, `rollout resume -f "
                f"{plan_file}` continues it.\n"
            )
            os._exit(int(ExitCode.NEEDS_HUMAN))
        _say(f"{name}: already rolling back; the rollback goes on so nothing is left half-way\n")

    for sig in SIGNALS:
        signal.signal(sig, handle)
