"""The one process runner: lines as they come, an end to every wait, the whole group stopped."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

from rollout.processes import StopPolicy, run_process


def never() -> bool:
    return False


def test_lines_reach_the_caller_while_the_child_still_runs(tmp_path: Path) -> None:
    seen: list[tuple[str, bool]] = []
    script = "import time\nprint('first', flush=True)\ntime.sleep(0.5)\nprint('second')\n"
    (tmp_path / "two.py").write_text(script)
    started = time.monotonic()

    ended = run_process(
        [sys.executable, "two.py"],
        cwd=tmp_path,
        env=os.environ,
        timeout=10,
        cancelled=never,
        on_line=lambda line: seen.append((line, time.monotonic() - started < 0.4)),
    )

    assert ended.returncode == 0 and ended.stopped is None
    assert seen == [("first", True), ("second", False)]  # the first before the child ended
    assert ended.output == "first\nsecond\n"


def test_standard_error_is_kept_apart_unless_merged(tmp_path: Path) -> None:
    command = [sys.executable, "-c", "import sys; print('out'); print('err', file=sys.stderr)"]
    apart = run_process(command, cwd=tmp_path, env=os.environ, timeout=10, cancelled=never)
    merged = run_process(
        command, cwd=tmp_path, env=os.environ, timeout=10, cancelled=never, merge_errors=True
    )
    assert (apart.output, apart.errors) == ("out\n", "err\n")
    assert sorted(merged.output.splitlines()) == ["err", "out"]


def test_a_child_past_its_deadline_is_stopped(tmp_path: Path) -> None:
    ended = run_process(
        "sleep 30", shell=True, cwd=tmp_path, env=os.environ, timeout=0.3, cancelled=never
    )
    assert ended.stopped == "timed out" and ended.returncode is None


def test_cancelling_signals_the_whole_group_and_kills_grandchildren_left_behind(
    tmp_path: Path,
) -> None:
    # A shell that starts a grandchild ignoring the stop signal, as terraform's provisioners do.
    (tmp_path / "stubborn.py").write_text(
        "import os, signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "open('pid', 'w').write(str(os.getpid()))\ntime.sleep(60)\n"
    )
    (tmp_path / "polite.sh").write_text(
        f"trap 'echo got INT; exit 130' INT\n{sys.executable} stubborn.py &\nwait\n"
    )
    asked = time.monotonic() + 1.0

    ended = run_process(
        ["sh", "polite.sh"],
        cwd=tmp_path,
        env=os.environ,
        timeout=None,
        cancelled=lambda: time.monotonic() > asked,
        stop=StopPolicy(signal.SIGINT, grace_seconds=0.5),
    )

    assert ended.stopped == "cancelled"
    assert "got INT" in ended.output  # asked with the signal it was told to use
    grandchild = int((tmp_path / "pid").read_text())
    deadline = time.monotonic() + 5
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(grandchild)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead too: it only waits for its parent (init) to reap it.
    status = Path(f"/proc/{pid}/stat")
    return status.exists() and status.read_text().split()[2] != "Z"


def test_what_an_ended_child_left_holding_its_output_is_killed_not_waited_on(
    tmp_path: Path,
) -> None:
    # A crashed terraform leaves its provider plugins running, holding the pipe.
    (tmp_path / "leaver.sh").write_text("sleep 60 &\necho $! > pid\nexit 3\n")

    ended = run_process(
        ["sh", "leaver.sh"], cwd=tmp_path, env=os.environ, timeout=30, cancelled=never
    )

    assert ended.returncode == 3 and ended.stopped is None
    left = int((tmp_path / "pid").read_text())
    deadline = time.monotonic() + 5
    while _alive(left) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(left)


def test_an_interrupt_while_waiting_stops_the_child_before_it_propagates(
    tmp_path: Path,
) -> None:
    (tmp_path / "long.sh").write_text("echo $$ > pid\nsleep 60\n")
    started = time.monotonic()

    def ctrl_c() -> bool:
        if time.monotonic() - started > 0.5:
            raise KeyboardInterrupt
        return False

    with pytest.raises(KeyboardInterrupt):
        run_process(
            ["sh", "long.sh"],
            cwd=tmp_path,
            env=os.environ,
            timeout=None,
            cancelled=ctrl_c,
            stop=StopPolicy(signal.SIGINT, grace_seconds=1),
        )

    assert not _alive(int((tmp_path / "pid").read_text()))
