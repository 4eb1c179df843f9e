"""The one way rollout runs another program: hooks' commands and terraform alike.

A child runs in its own session, so Ctrl-C reaches rollout, which decides when
the child must stop; its output is read line by line as it comes (terraform's
`-json` progress), a tail of it is kept; and no wait is without an end.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ProcessEnd", "StopPolicy", "run_process", "stop_all"]

_SLICE = 0.1  # how often a running child is checked for cancellation and its deadline
_TAIL_LINES = 200
# After the child exits, how long what it left behind may keep its output open (a crashed
# terraform's provider plugins do) before the rest of its group is killed.
_LEFTOVER_SECONDS = 2.0

_RUNNING: dict[int, tuple[subprocess.Popen[str], StopPolicy]] = {}
_RUNNING_LOCK = threading.Lock()


@dataclass(frozen=True)
class StopPolicy:
    """How a child is asked to stop, and how long it has before it is killed."""

    signal: int = signal.SIGTERM
    grace_seconds: float = 5.0


@dataclass(frozen=True)
class ProcessEnd:
    """How a child ended."""

    returncode: int | None  # None when rollout stopped it
    stopped: str | None  # "cancelled" or "timed out", when rollout stopped it
    output: str  # the last lines of its standard output
    errors: str  # the last lines of its standard error (merged into output when asked)


def run_process(
    argv: Sequence[str] | str,
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float | None,
    cancelled: Callable[[], bool],
    on_line: Callable[[str], None] | None = None,
    shell: bool = False,
    merge_errors: bool = False,
    stop: StopPolicy = StopPolicy(),
) -> ProcessEnd:
    """Run `argv` to its end, its cancellation or its deadline; `on_line` sees each line."""
    process = subprocess.Popen(
        argv,
        shell=shell,
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if merge_errors else subprocess.PIPE,
        text=True,
        errors="replace",
        start_new_session=True,
    )
    output: deque[str] = deque(maxlen=_TAIL_LINES)
    errors: deque[str] = deque(maxlen=_TAIL_LINES)
    readers = [_reader(process.stdout, output, on_line)]
    if not merge_errors:
        readers.append(_reader(process.stderr, errors, None))
    with _RUNNING_LOCK:
        _RUNNING[process.pid] = (process, stop)
    try:
        stopped = _wait(process, timeout, cancelled)
    except BaseException:  # Ctrl-C in this thread: the child must not outlive the command
        _stop_group(process, stop, readers)
        raise
    finally:
        with _RUNNING_LOCK:
            _RUNNING.pop(process.pid, None)
    if stopped is not None:
        _stop_group(process, stop, readers)
    else:
        _clear_leftovers(process, readers)
    for reader in readers:
        reader.join(timeout=_LEFTOVER_SECONDS)
    return ProcessEnd(
        None if stopped else process.returncode,
        stopped,
        "".join(output),
        "".join(errors),
    )


def stop_all() -> None:
    """Ask every child still running to stop, and wait for them (Ctrl-C in another thread)."""
    with _RUNNING_LOCK:
        running = list(_RUNNING.values())
    for process, stop in running:
        _signal_group(process, stop.signal)
    for process, stop in running:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=stop.grace_seconds)
        _signal_group(process, signal.SIGKILL)


def _clear_leftovers(process: subprocess.Popen[str], readers: list[threading.Thread]) -> None:
    """The child ended; what it started and left holding its output is killed, not waited on."""
    deadline = time.monotonic() + _LEFTOVER_SECONDS
    for reader in readers:
        reader.join(timeout=max(0.0, deadline - time.monotonic()))
    if any(reader.is_alive() for reader in readers):
        _signal_group(process, signal.SIGKILL)
        for reader in readers:
            reader.join(timeout=_LEFTOVER_SECONDS)


def _reader(
    stream: object, kept: deque[str], on_line: Callable[[str], None] | None
) -> threading.Thread:
    def read() -> None:
        for line in stream:  # type: ignore[attr-defined]
            kept.append(line)
            if on_line is not None:
                # A consumer's failure must not leave the child blocked on a full pipe.
                with contextlib.suppress(Exception):
                    on_line(line.rstrip("\n"))

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread


def _wait(
    process: subprocess.Popen[str], timeout: float | None, cancelled: Callable[[], bool]
) -> str | None:
    """Wait for the child; why it must stop, when cancelled or out of time."""
    # Real time, not rollout's clock: the child runs in real time whatever a test's clock says.
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        try:
            process.wait(timeout=_SLICE)
            return None
        except subprocess.TimeoutExpired:
            pass
        if cancelled():
            return "cancelled"
        if deadline is not None and time.monotonic() >= deadline:
            return "timed out"


def _stop_group(
    process: subprocess.Popen[str], stop: StopPolicy, readers: list[threading.Thread]
) -> None:
    """Ask the child's group to stop, then kill what is left of it (orphaned grandchildren too).

    The group has its grace until every member let go of the output pipe, not only the
    child: a shell may die at once while the program it started still cleans up.
    """
    _signal_group(process, stop.signal)
    deadline = time.monotonic() + stop.grace_seconds
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=stop.grace_seconds)
    for reader in readers:
        reader.join(timeout=max(0.0, deadline - time.monotonic()))
    _signal_group(process, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=stop.grace_seconds)


def _signal_group(process: subprocess.Popen[str], number: int) -> None:
    """Signal the child's whole group (its own session); gone already is fine."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, number)
