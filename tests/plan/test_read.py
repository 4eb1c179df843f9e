"""Reading the plan file itself: regular files, pipes and devices, the size limit."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from rollout.plan.load import MAX_PLAN_BYTES
from tests.support import run_cli

PLAN = """\
version: 1
name: orders
regions: [us-east-1]
targets:
  - name: api
    lambda: {function: orders-api, alias: live}
    strategy: AllAtOnce
"""

# `rollout ARGS` in a process whose address space is capped well below the host's memory.
CAPPED_ROLLOUT = f"""\
import resource, runpy
resource.setrlimit(resource.RLIMIT_AS, ({512 * 1024 * 1024}, {512 * 1024 * 1024}))
runpy.run_module("rollout", run_name="__main__")
"""


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error: ")]


def test_dev_zero_is_refused_as_too_large_without_reading_it_all() -> None:
    # Its st_size is 0, so only a bounded read stops an endless stream of NULs. The memory
    # cap turns a read that never ends into a quick MemoryError instead of exhausting the host.
    process = subprocess.run(
        [sys.executable, "-c", CAPPED_ROLLOUT, "validate", "-f", "/dev/zero"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert process.returncode == 1
    assert error_lines(process.stderr) == ["error: /dev/zero:1:1: the file is larger than 10 MiB"]


def test_regular_file_just_over_the_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as handle:
        handle.truncate(MAX_PLAN_BYTES + 1)

    result = run_cli(["validate", "-f", str(path)])

    assert result.exit_code == 1
    assert error_lines(result.stderr) == [f"error: {path}:1:1: the file is larger than 10 MiB"]


def test_small_plan_from_a_fifo_loads(tmp_path: Path) -> None:
    fifo = tmp_path / "plan.fifo"
    os.mkfifo(fifo)

    def write() -> None:
        # Opening a FIFO for writing waits until rollout opens it for reading.
        fifo.write_text(PLAN, encoding="utf-8")

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    result = run_cli(["validate", "-f", str(fifo)])
    writer.join(timeout=10)

    assert result.exit_code == 0, result.stderr
    assert "valid plan 'orders'" in result.stdout


def test_small_plan_from_a_pipe_given_as_dev_fd_loads() -> None:
    # `rollout validate -f <(generate-plan)` hands rollout a /dev/fd/N path to a pipe.
    read_end, write_end = os.pipe()
    try:
        os.write(write_end, PLAN.encode("utf-8"))
        os.close(write_end)
        result = run_cli(["validate", "-f", f"/dev/fd/{read_end}"])
    finally:
        os.close(read_end)

    assert result.exit_code == 0, result.stderr
    assert "valid plan 'orders'" in result.stdout


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda path: None, "no such file (give the plan with -f PLAN)"),
        (lambda path: path.mkdir(), "is a directory, not a plan file"),
        (
            lambda path: path.write_bytes(b"version: 1\nname: caf\xe9\n"),
            "not UTF-8 text (invalid continuation byte at byte 20)",
        ),
    ],
    ids=["missing", "directory", "latin-1"],
)
def test_unreadable_plan_file_is_one_located_error(tmp_path: Path, make: Any, message: str) -> None:
    path = tmp_path / "rollout.yaml"
    make(path)

    result = run_cli(["validate", "-f", str(path)])

    assert result.exit_code == 1
    assert error_lines(result.stderr) == [f"error: {path}:1:1: {message}"]


def test_a_named_pipe_nobody_writes_to_is_given_up_instead_of_hanging(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("rollout.plan.load.PIPE_WAIT_SECONDS", 0.5)
    fifo = tmp_path / "plan.yaml"
    os.mkfifo(fifo)

    result = run_cli(["validate", "-f", str(fifo)])

    assert result.exit_code == 1
    assert f"{fifo}:1:1: nobody wrote to this pipe within 0.5s" in result.stderr
