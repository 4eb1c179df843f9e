"""The examples a user copies run end to end on the sandbox emulator."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from rollout.sandbox import package
from tests.e2e.world import World
from tests.processes import rollout_command
from tests.support import EXAMPLES
from tests.terraform.support import null_plugin_dir, terraform_binary

REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]


def offline_terraform(folder: Path) -> dict[str, str]:
    """An environment whose terraform finds the null provider locally, as a mirror would."""
    mirror = null_plugin_dir(folder)
    config = folder / "terraform.rc"
    config.write_text(
        f'provider_installation {{\n  filesystem_mirror {{\n    path = "{mirror}"\n  }}\n}}\n',
        encoding="utf-8",
    )
    beside = str(Path(terraform_binary()).parent)
    return {
        **os.environ,
        "TF_CLI_CONFIG_FILE": str(config),
        "PATH": f"{beside}{os.pathsep}{os.environ['PATH']}",
    }


def test_the_multi_region_example_applies_terraform_then_releases_in_two_waves(
    aws_endpoint: str, tmp_path: Path
) -> None:
    example = tmp_path / "multi-region"
    shutil.copytree(EXAMPLES / "multi-region", example)
    (example / "build").mkdir()
    (example / "build" / "api.zip").write_bytes(package("v2"))
    worlds = {}
    for region in REGIONS:
        world = World(aws_endpoint, region)
        world.function(f"api-{region}")
        world.alarm(f"api-errors-{region}")
        worlds[region] = world

    done = subprocess.run(
        [
            *rollout_command("apply", example / "rollout.yaml", aws_endpoint, "--yes"),
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=offline_terraform(tmp_path),
    )

    assert done.returncode == 0, done.stdout + done.stderr
    for region, world in worlds.items():
        assert world.lambda_routing(f"api-{region}") == ("2", {})
        state = json.loads((example / ".tfstate" / region / "terraform.tfstate").read_text())
        assert [r["type"] for r in state["resources"]] == ["null_resource"]
    events = [json.loads(line) for line in done.stdout.splitlines()]
    applied = [e["region"] for e in events if e["event"] == "terraform_applied"]
    assert applied[0] == "us-east-1" and sorted(applied[1:]) == ["ap-southeast-2", "eu-west-1"]
    assert all(e["add"] == 1 for e in events if e["event"] == "terraform_applied")
    for region in REGIONS:  # one proxy configuration per region, from its outputs
        text = (example / "build" / "nginx" / f"{region}.conf").read_text()
        assert f"server_name orders.{region}.internal.example.com;" in text
        assert f"x-apigw-api-id orders-{region};" in text
