"""The terraform stage end to end: the real binary per region, then traffic on moto's server."""

from __future__ import annotations

import json
from pathlib import Path

from rollout.sandbox import package
from tests.e2e.test_apply import FAST
from tests.e2e.world import World
from tests.support import CliResult, run_cli
from tests.terraform.support import config_copy, terraform_binary

REGIONS = ["us-east-1", "eu-west-1", "ap-south-1"]


def terraform_release(
    endpoint: str, folder: Path, regions: list[str] = REGIONS, *, extra: str = ""
) -> tuple[Path, dict[str, World]]:
    """Functions named `api-REGION` that terraform's outputs name, and a plan releasing them."""
    worlds = {}
    for region in regions:
        world = World(endpoint, region)
        world.function(f"api-{region}")
        world.alarm("api-errors")
        worlds[region] = world
    config_copy("outputs", folder)
    (folder / "v2.zip").write_bytes(package("v2"))
    plan = folder / "rollout.yaml"
    plan.write_text(
        f"version: 1\nname: tf\nregions: [{', '.join(regions)}]\n"
        "terraform:\n"
        "  dir: outputs\n"
        f"  binary: {terraform_binary()}\n"
        "  backend_config: {path: '../state/{region}/terraform.tfstate'}  # terraform: from dir\n"
        "  vars: {region: '{region}', tag: v2}\n"
        "targets:\n"
        "  - name: api\n"
        "    lambda: {function: '{tf.function_name}', alias: live, code: {zip: v2.zip}}\n"
        "    strategy: AllAtOnce\n"
        "    alarms: [api-errors]\n" + extra + FAST,
        encoding="utf-8",
    )
    return plan, worlds


def apply_json(plan: Path, endpoint: str, *more: str) -> tuple[CliResult, list[dict[str, object]]]:
    result = run_cli(
        ["apply", "--yes", "--output", "json", "-f", str(plan), "--endpoint-url", endpoint, *more]
    )
    events = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return result, events


def test_three_regions_apply_terraform_then_release_the_functions_its_outputs_name(
    aws_endpoint: str, tmp_path: Path
) -> None:
    plan, worlds = terraform_release(aws_endpoint, tmp_path)

    result, events = apply_json(plan, aws_endpoint)

    assert result.exit_code == 0, result.stdout + result.stderr
    for region, world in worlds.items():
        assert world.lambda_routing(f"api-{region}") == ("2", {})
        # Each region its own state, kept where the backend configuration says.
        state = json.loads((tmp_path / "state" / region / "terraform.tfstate").read_text())
        assert state["outputs"]["function_name"]["value"] == f"api-{region}"
    outputs = [e for e in events if e["event"] == "terraform_outputs"]
    assert sorted(str(e["region"]) for e in outputs) == sorted(REGIONS)
    assert ["token", "(sensitive)"] in outputs[0]["outputs"]  # type: ignore[operator]


def test_a_second_run_with_nothing_to_change_applies_nothing(
    aws_endpoint: str, tmp_path: Path
) -> None:
    plan, _worlds = terraform_release(aws_endpoint, tmp_path, ["us-east-1"])
    assert apply_json(plan, aws_endpoint)[0].exit_code == 0

    result, events = apply_json(plan, aws_endpoint)

    assert result.exit_code == 0, result.stdout + result.stderr
    kinds = [e["event"] for e in events]
    assert "terraform_planned" in kinds and "terraform_applied" not in kinds
    planned = next(e for e in events if e["event"] == "terraform_planned")
    assert (planned["add"], planned["change"], planned["destroy"]) == (0, 0, 0)


def test_a_sensitive_output_is_in_no_output_and_not_in_the_state_file(
    aws_endpoint: str, tmp_path: Path
) -> None:
    # The hook prints the secret it was given: the secret still shows nowhere.
    hook = "    hooks:\n      after_traffic: {command: 'echo token={tf.token}'}\n"
    plan, _worlds = terraform_release(aws_endpoint, tmp_path, ["us-east-1"], extra=hook)

    as_json, _ = apply_json(plan, aws_endpoint)
    as_text = run_cli(["status", "-f", str(plan), "--endpoint-url", aws_endpoint])

    assert as_json.exit_code == 0, as_json.stdout + as_json.stderr
    assert "token=[redacted]" in as_json.stdout  # the hook ran with it, and it was masked
    secret = "s3cr3t-us-east-1"
    for text in (as_json.stdout, as_json.stderr, as_text.stdout, as_text.stderr):
        assert secret not in text
    record = (tmp_path / ".rollout" / "tf.json").read_text()
    assert secret not in record and "sha256:" in record


def test_a_configuration_error_in_one_region_stops_it_and_the_next_wave_before_traffic(
    aws_endpoint: str, tmp_path: Path
) -> None:
    plan, worlds = terraform_release(aws_endpoint, tmp_path, ["us-east-1", "eu-west-1"])
    # Wave 1 is us-east-1; its region is refused by a precondition-like error.
    text = plan.read_text().replace(
        "regions: [us-east-1, eu-west-1]",
        "regions: [us-east-1, eu-west-1]\nwaves: [[us-east-1], [eu-west-1]]",
    )
    plan.write_text(text.replace("tag: v2", "tag: v2, sizes: 'not a list'"))

    result, _events = apply_json(plan, aws_endpoint)

    assert result.exit_code == 1, result.stdout + result.stderr
    refusal = json.loads(result.stdout)["lines"]
    assert any(line.startswith("error: us-east-1 terraform:") for line in refusal), refusal
    assert any("sizes" in line for line in refusal)
    for region, world in worlds.items():
        assert world.lambda_routing(f"api-{region}") == ("1", {})
