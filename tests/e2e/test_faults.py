"""Rollouts through a proxy that throttles, fails and stalls a share of AWS requests.

Whatever the proxy does, a rollout must end complete (every alias on the new
version, exit 0) or rolled back (every alias on its recorded routing, exit 3),
never mixed.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.crashes import Release
from tests.faultproxy import Faults, fault_proxy
from tests.processes import rollout_command


def release_through(proxy: str, folder: Path) -> int:
    """Run `rollout apply` against the proxy in its own process; its exit code."""
    environment = {**os.environ, "ROLLOUT_AWS_READ_TIMEOUT": "0.5"}
    done = subprocess.run(
        rollout_command("apply", folder / "rollout.yaml", proxy, "--yes"),
        env=environment,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    (folder / "log").write_text(done.stdout + done.stderr)
    return done.returncode


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_rollouts_under_ten_percent_faults_end_complete_or_rolled_back(
    aws_endpoint: str, tmp_path: Path, seed: int
) -> None:
    release = Release.create(aws_endpoint, tmp_path)
    faults = Faults(throttle=0.04, server_error=0.04, stall=0.02, stall_seconds=1.0, seed=seed)

    with fault_proxy(aws_endpoint, faults) as proxy:
        code = release_through(proxy, tmp_path)

    log = (tmp_path / "log").read_text()
    assert code in (0, 3), log
    assert release.at_new() if code == 0 else release.at_old(), (release.routings(), log)
    assert sum(n for fault, n in faults.counts.items() if fault != "forward") > 0
