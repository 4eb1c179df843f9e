"""`bench/run` starts as a script of its own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

RUN = Path(__file__).resolve().parents[2] / "bench" / "run"


def test_bench_run_help_names_the_quick_run() -> None:
    done = subprocess.run(
        [sys.executable, str(RUN), "--help"], capture_output=True, text=True, check=False
    )

    assert done.returncode == 0, done.stderr
    assert "--quick" in done.stdout
    assert "results.json" in done.stdout
