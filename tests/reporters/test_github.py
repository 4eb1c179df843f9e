"""GitHub Actions mode: workflow commands, the step summary and step outputs, escaped."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rollout.reporters.github import escape_data, escape_property
from tests.e2e.test_apply import lambda_plan
from tests.e2e.test_terraform_stage import terraform_release
from tests.e2e.world import World
from tests.support import run_cli


def test_messages_and_properties_are_escaped_as_the_workflow_command_rules_say() -> None:
    assert escape_data("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


def github(monkeypatch: pytest.MonkeyPatch, folder: Path) -> tuple[Path, Path]:
    summary, outputs = folder / "summary.md", folder / "outputs.txt"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    return summary, outputs


def released_on_github(
    endpoint: str, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, Path, Path]:
    """A function, its alarm and an all-at-once plan, run as a GitHub Actions step would."""
    world = World(endpoint)
    world.function("api")
    world.alarm("api-errors")
    summary, outputs = github(monkeypatch, folder)
    return lambda_plan(folder, "AllAtOnce"), summary, outputs


def outputs_of(text: str) -> dict[str, str]:
    """`$GITHUB_OUTPUT` read as GitHub reads it, delimiters included."""
    found, lines = {}, iter(text.splitlines())
    for line in lines:
        if "<<" in line:
            name, delimiter = line.split("<<", 1)
            value = []
            for item in lines:
                if item == delimiter:
                    break
                value.append(item)
            found[name] = "\n".join(value)
        else:
            name, _, value = line.partition("=")
            found[name] = value
    return found


def test_a_released_region_is_grouped_summarised_and_its_version_output(
    aws_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan, summary, outputs = released_on_github(aws_endpoint, tmp_path, monkeypatch)

    result = run_cli(["apply", "--yes", "-f", str(plan), "--endpoint-url", aws_endpoint])

    assert result.exit_code == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines.index("::group::rollout us-east-1") < lines.index("::endgroup::")
    table = summary.read_text()
    assert "### rollout: succeeded (exit 0)" in table
    assert "| us-east-1 | succeeded |" in table
    assert re.search(
        r"\| us-east-1 \| api \| 2 \| `arn:aws:lambda:us-east-1:\d+:function:api:2` \|", table
    )
    found = outputs_of(outputs.read_text())
    assert found["outcome"] == "succeeded" and found["exit_code"] == "0"
    assert found["versions"] == "us-east-1 api 2"
    assert found["arns"].endswith(":function:api:2")


def test_a_rolled_back_region_is_an_error_annotation_with_its_reason(
    aws_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan, _summary, _outputs = released_on_github(aws_endpoint, tmp_path, monkeypatch)
    # A smoke test that fails once traffic moved: rolled back, and GitHub is told why.
    hook = "    hooks:\n      after_traffic: {command: 'echo smoke failed: 50%, then 0; exit 1'}\n"
    plan.write_text(plan.read_text().replace("    alarms: [api-errors]\n", hook))

    result = run_cli(["apply", "--yes", "-f", str(plan), "--endpoint-url", aws_endpoint])

    assert result.exit_code == 3, result.stdout + result.stderr
    errors = [line for line in result.stdout.splitlines() if line.startswith("::error")]
    assert len(errors) == 1
    assert errors[0].startswith("::error title=rollout us-east-1%3A rolled back::")
    assert "50%25" in errors[0]  # the hook's own words, escaped


def test_with_output_json_the_stream_stays_json_and_the_files_are_still_written(
    aws_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan, summary, _outputs = released_on_github(aws_endpoint, tmp_path, monkeypatch)

    result = run_cli(
        ["apply", "--yes", "--output", "json", "-f", str(plan), "--endpoint-url", aws_endpoint]
    )

    assert result.exit_code == 0
    assert all(line.startswith("{") for line in result.stdout.splitlines())
    assert "| us-east-1 | succeeded |" in summary.read_text()


def test_sensitive_terraform_outputs_are_masked_before_any_line_could_show_them(
    aws_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    github(monkeypatch, tmp_path)
    plan, _worlds = terraform_release(aws_endpoint, tmp_path, ["us-east-1"])

    result = run_cli(["apply", "--yes", "-f", str(plan), "--endpoint-url", aws_endpoint])

    assert result.exit_code == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    mask = lines.index("::add-mask::s3cr3t-us-east-1")
    outputs = next(i for i, line in enumerate(lines) if "terraform outputs:" in line)
    assert mask < outputs
