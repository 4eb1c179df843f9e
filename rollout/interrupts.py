"""Ctrl-C, SIGTERM (a cancelled CI job) and SIGHUP (a closed terminal) during a rollout.

The first signal asks the engine to roll back what is in flight; a second one
stops at once, leaving the recorded state for `rollout rollback` or `resume`.
"""

from __future__ import annotations

import os
import signal
import threading
from types import FrameType

from rollout.exitcodes import ExitCode

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def stop_on_signals(interrupted: threading.Event, plan_file: str) -> None:
    """Set `interrupted` on the first signal; exit at once (code 4) on the second."""

    def handle(signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if not interrupted.is_set():
            interrupted.set()
            _say(
                f"{name}: rolling back what is in flight; "
                "press Ctrl-C again to stop at once and leave it as it is\n"
            )
            return
        _say(
            f"{name}: stopped at once. The state is recorded: `rollout rollback -f {plan_file}` "
            f"restores the routing from before the rollout, `rollout resume -f {plan_file}` "
            "continues it.\n"
        )
        os._exit(int(ExitCode.NEEDS_HUMAN))

    for sig in SIGNALS:
        signal.signal(sig, handle)


def _say(text: str) -> None:
    # Only os.write is safe inside a signal handler.
    os.write(2, text.encode())
