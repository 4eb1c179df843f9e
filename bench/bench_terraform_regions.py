"""Terraform in many regions: one wave applied side by side against one region at a time.

    python bench/bench_terraform_regions.py [--regions 8] [--sleep 2] [--runs 3]

Each region's configuration is a null_resource whose apply takes `--sleep`
seconds (the null provider from the test extra, so nothing is downloaded);
after terraform, one Lambda alias per region moves all at once on moto's
server. Prints the median wall time of `rollout apply` with `parallelism`
equal to the number of regions, then with `parallelism: 1`, and their ratio.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rollout.sandbox import SandboxWorld, emulator, package
from tests.processes import rollout_command
from tests.terraform.support import CONFIGS, null_plugin_dir, terraform_binary

REGIONS = [
    "us-east-1", "us-east-2", "us-west-1", "us-west-2",
    "eu-west-1", "eu-west-2", "eu-central-1", "ap-south-1",
    "ap-southeast-1", "ap-southeast-2", "ap-northeast-1", "sa-east-1",
]  # fmt: skip


def one_run(endpoint: str, regions: list[str], parallelism: int, sleep: int, run: int) -> float:
    """Seconds for one `rollout apply` of every region, terraform and traffic."""
    folder = Path(tempfile.mkdtemp())
    name = f"tf-{parallelism}-{run}"
    for region in regions:
        world = SandboxWorld(endpoint, region)
        world.function(f"api-{region}-{name}")
    shutil.copytree(CONFIGS / "null_resources", folder / "infra")
    (folder / "v2.zip").write_bytes(package("v2"))
    plan = folder / "rollout.yaml"
    plan.write_text(
        f"version: 1\nname: {name}\nregions: [{', '.join(regions)}]\n"
        f"parallelism: {parallelism}\n"
        "terraform:\n  dir: infra\n"
        f"  binary: {terraform_binary()}\n  plugin_dir: {null_plugin_dir(folder)}\n"
        "  backend_config: {path: '../state/{region}/terraform.tfstate'}\n"
        f"  vars: {{region: '{{region}}', sleep: {sleep}}}\n"
        "targets:\n  - name: api\n"
        f"    lambda: {{function: '{{tf.function_name}}-{name}', alias: live, "
        "code: {zip: v2.zip}}\n    strategy: AllAtOnce\n"
        # Short polls: the figure is terraform's, not the alarm watch after the last shift.
        "alarms: {poll_interval: 0.5s}\n",
        encoding="utf-8",
    )
    started = time.perf_counter()
    done = subprocess.run(
        rollout_command("apply", plan, endpoint, "--yes"),
        capture_output=True,
        text=True,
        check=False,
        env=os.environ,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"apply failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    shutil.rmtree(folder, ignore_errors=True)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regions", type=int, default=8)
    parser.add_argument("--sleep", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    regions = REGIONS[: options.regions]
    with emulator() as endpoint:
        side_by_side = [
            one_run(endpoint, regions, len(regions), options.sleep, n) for n in range(options.runs)
        ]
        one_at_a_time = [
            one_run(endpoint, regions, 1, options.sleep, n) for n in range(options.runs)
        ]
    parallel, serial = statistics.median(side_by_side), statistics.median(one_at_a_time)
    print(f"terraform_regions {len(regions)} regions")
    print(f"terraform_apply_parallel_s {parallel:.2f} s")
    print(f"terraform_apply_sequential_s {serial:.2f} s")
    print(f"terraform_parallel_speedup {serial / parallel:.2f} x")


if __name__ == "__main__":
    main()
