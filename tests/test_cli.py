"""The command line as a user runs it: validate, plan --offline, schema, stubs, help."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from rollout import __version__
from rollout.cli import render_top_level_help
from rollout.help_text import TOP_LEVEL_HELP
from tests.support import EXAMPLES, run_cli

EXAMPLE_PLANS = sorted(EXAMPLES.rglob("*.yaml"))


@pytest.mark.parametrize("plan", EXAMPLE_PLANS, ids=lambda p: p.stem)
def test_every_example_validates(plan: Path) -> None:
    result = run_cli(["validate", "-f", str(plan)])
    assert result.exit_code == 0, result.stderr
    assert "valid plan" in result.stdout


@pytest.mark.parametrize("plan", EXAMPLE_PLANS, ids=lambda p: p.stem)
def test_every_example_points_editors_at_the_schema(plan: Path) -> None:
    first_line = plan.read_text(encoding="utf-8").splitlines()[0]
    schema = os.path.relpath(EXAMPLES / "rollout.schema.json", plan.parent)
    assert first_line == f"# yaml-language-server: $schema={schema}"


def test_examples_schema_file_is_what_rollout_schema_prints() -> None:
    result = run_cli(["schema"])
    assert result.exit_code == 0
    committed = json.loads((EXAMPLES / "rollout.schema.json").read_text(encoding="utf-8"))
    assert json.loads(result.stdout) == committed, (
        "regenerate it: rollout schema > examples/rollout.schema.json"
    )


def test_offline_plan_shows_linear_ten_percent_every_minute_reaching_100_at_nine_minutes() -> None:
    result = run_cli(["plan", "--offline", "-f", str(EXAMPLES / "multi-region.yaml")])

    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "wave 1: us-east-1 (up to 4 at once)" in lines
    assert "wave 2: eu-west-1 (up to 4 at once)" in lines
    start = lines.index(
        "  us-east-1 / api: lambda orders-api:live, Linear10PercentEvery1Minute, 14m"
    )
    assert lines[start + 1] == "    alarms: orders-api-errors-us-east-1, orders-api-p99-us-east-1"
    shifts = [line.split() for line in lines[start + 2 : start + 22] if line.endswith("shift")]
    assert [(offset, weight) for offset, weight, _ in shifts] == [
        *[(f"{minute}m" if minute else "0s", f"{10 * (minute + 1)}%") for minute in range(9)],
        ("9m", "100%"),
    ]
    assert "    alarms: orders-api-errors-eu-west-1, orders-api-p99-eu-west-1" in lines
    # Two waves in turn, each as long as its slowest target (the api: 9m, then a 5m bake).
    assert lines[-1] == "total: 28m, alarms polled every 10s"


def test_offline_plan_as_json_carries_every_step() -> None:
    result = run_cli(
        ["plan", "--offline", "--output", "json", "-f", str(EXAMPLES / "multi-region.yaml")]
    )
    document = json.loads(result.stdout)
    api = document["waves"][0]["regions"][0]["targets"][0]
    shifts = [(s["offset_seconds"], s["weight"]) for s in api["timeline"] if s["action"] == "shift"]
    assert shifts[-1] == (540.0, 100.0)
    assert [w for _, w in shifts] == [10.0 * n for n in range(1, 11)]


def test_offline_plan_filters_by_region_and_target() -> None:
    result = run_cli(
        [
            "plan",
            "--offline",
            "-f",
            str(EXAMPLES / "multi-region.yaml"),
            "--region",
            "eu-west-1",
            "--target",
            "workflow",
        ]
    )
    assert result.exit_code == 0
    assert "us-east-1" not in result.stdout
    assert "eu-west-1 / workflow" in result.stdout
    assert "/ api" not in result.stdout


def test_offline_plan_with_unknown_region_filter_is_a_usage_error() -> None:
    result = run_cli(
        ["plan", "--offline", "-f", str(EXAMPLES / "multi-region.yaml"), "--region", "mars-1"]
    )
    assert result.exit_code == 2
    assert "no region named 'mars-1'" in result.stderr


def test_offline_plan_detailed_exitcode_reports_pending_changes() -> None:
    result = run_cli(
        ["plan", "--offline", "--detailed-exitcode", "-f", str(EXAMPLES / "canary-lambda.yaml")]
    )
    assert result.exit_code == 2


HOOKED = """\
version: 1
name: hooks
regions: [us-east-1]
targets:
  - name: api
    lambda: {function: "api-{region}", alias: live, code: {version: "2"}}
    strategy: {steps: [{weight: 10, pause: manual}, {weight: 100}]}
    hooks:
      before_traffic: {command: "./smoke.sh {region}"}
      after_traffic: {http: "https://ops:s3cret@checks.example.com/after"}
      on_pause: {command: "notify {promote_command}"}
"""


def test_the_plan_shows_where_each_hook_runs_as_the_release_would(write_plan: Any) -> None:
    # A before_traffic hook adds a step at 0% whatever the strategy says: the preview of
    # what a release does must show it, and where the other two hooks run.
    result = run_cli(["plan", "--offline", "-f", str(write_plan(HOOKED))])

    assert result.exit_code == 0, result.stderr
    timeline = [line.split(None, 2) for line in result.stdout.splitlines() if "%  " in line]
    actions = [(weight, action) for _, weight, action in timeline]
    assert actions[0] == ("0%", "before_traffic hook at 0% (command ./smoke.sh us-east-1)")
    assert actions[1] == ("10%", "shift")
    assert actions[2][1].startswith("pause until `rollout promote`; the on_pause hook")
    assert actions[3][1].startswith("shift, then the after_traffic hook (http https://")
    assert "s3cret" not in result.stdout


def test_manual_pause_is_shown_as_waiting_for_promote() -> None:
    result = run_cli(
        ["plan", "--offline", "-f", str(EXAMPLES / "full.yaml"), "--target", "reports"]
    )
    assert result.exit_code == 0, result.stderr
    assert "pause until `rollout promote`" in result.stdout
    assert "promote+0s     100%  shift" in result.stdout
    assert "+ 1 manual pause" in result.stdout


def test_apply_without_a_terminal_needs_yes_and_changes_nothing() -> None:
    result = run_cli(["apply", "-f", str(EXAMPLES / "canary-lambda.yaml")])
    assert result.exit_code == 1
    assert "pass --yes" in result.stderr
    assert result.stdout == ""


def test_nginx_render_of_a_missing_file_is_a_located_error() -> None:
    result = run_cli(["nginx", "render", "domains.yaml"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: domains.yaml:1:1: no such file")


def test_version() -> None:
    assert run_cli(["--version"]).stdout == f"rollout {__version__}\n"


def test_fast_help_is_exactly_what_click_renders() -> None:
    assert render_top_level_help() == TOP_LEVEL_HELP, (
        'regenerate it: python -c "from rollout.cli import write_help_text; write_help_text()"'
    )


@pytest.mark.parametrize("flag", ["--help", "-h", "--version"])
def test_fast_paths_of_the_real_executable_match_click(flag: str) -> None:
    fast = subprocess.run(
        [sys.executable, "-m", "rollout", flag], capture_output=True, text=True, check=True
    )
    slow = run_cli([flag])
    assert fast.stdout == slow.stdout


def test_fast_help_path_imports_neither_click_nor_boto3() -> None:
    probe = (
        "import sys, io, contextlib\n"
        "sys.argv = ['rollout', '--help']\n"
        "from rollout.entry import main\n"
        "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
        "    main()\n"
        "print(sorted(m for m in ('click', 'boto3', 'pydantic', 'rich') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_validate_does_not_import_boto3() -> None:
    probe = (
        "import sys\n"
        f"sys.argv = ['rollout', 'validate', '-f', {str(EXAMPLES / 'full.yaml')!r}]\n"
        "from rollout.entry import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('boto3' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip().endswith("False")


@pytest.mark.parametrize("command", ["plan", "status", "resume", "rollback"])
def test_an_error_under_output_json_is_still_one_json_object(command: str, tmp_path: Path) -> None:
    # A script parsing stdout must not meet an empty stream when the plan is bad.
    bad = tmp_path / "plan.yaml"
    bad.write_text("version: 1\nname: x\nregions: [us-east-1]\ntargets: nope\n")
    extra = ["--offline"] if command == "plan" else []
    result = run_cli([command, *extra, "--output", "json", "-f", str(bad)])

    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["schema_version"] == 1
    assert document["exit_code"] == 1 and document["error"] is True
    assert any("plan.yaml" in line and "targets" in line for line in document["lines"])
    assert "plan.yaml" in result.stderr  # people reading the log still see it
