"""`--junit FILE` as Jenkins reads it: the CLI run against moto's server, each report
validated against the Jenkins xUnit plugin's JUnit schema (see tests/reporters/test_junit.py).
"""

from __future__ import annotations

import os
import signal
import subprocess
from decimal import Decimal
from pathlib import Path
from xml.etree import ElementTree as ET

from tests.e2e.test_apply import apply, lambda_plan
from tests.e2e.test_state_and_signals import SLOW_CANARY, baking_at_10_percent
from tests.e2e.test_terraform_stage import terraform_release
from tests.e2e.world import World
from tests.processes import rollout_command, wait_until
from tests.reporters.test_junit import case, jenkins_schema, outcome
from tests.support import run_cli


def read_report(path: Path) -> ET.Element:
    jenkins_schema().validate(str(path))
    return ET.parse(path).getroot()


def released_function(endpoint: str) -> World:
    world = World(endpoint)
    world.function("api")
    world.alarm("api-errors")
    return world


def test_apply_writes_a_passing_case_per_region_and_target(
    aws_endpoint: str, tmp_path: Path
) -> None:
    released_function(aws_endpoint)
    plan = lambda_plan(tmp_path, "AllAtOnce")
    junit = tmp_path / "rollout-junit.xml"

    result = apply(plan, aws_endpoint, "--junit", str(junit))

    assert result.exit_code == 0, result.stdout + result.stderr
    root = read_report(junit)
    assert root.get("name") == "rollout e2e"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("1", "0", "0")
    api = case(root, "us-east-1", "api")
    assert outcome(api) is None
    out = api.findtext("system-out") or ""
    assert "us-east-1 api: published version 2" in out
    assert "us-east-1: region succeeded" in out
    assert "\x1b" not in junit.read_text(encoding="utf-8")


def test_sigterm_mid_rollout_rolls_back_and_the_report_says_why(
    aws_endpoint: str, tmp_path: Path
) -> None:
    world = released_function(aws_endpoint)
    plan = lambda_plan(tmp_path, SLOW_CANARY)
    junit = tmp_path / "rollout-junit.xml"
    log = tmp_path / "log"
    process = subprocess.Popen(
        rollout_command("apply", plan, aws_endpoint, "--yes", "--junit", str(junit)),
        stdin=subprocess.DEVNULL,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    wait_until(baking_at_10_percent(tmp_path))

    os.killpg(process.pid, signal.SIGTERM)  # a cancelled CI job

    assert process.wait(30) == 3, log.read_text()
    assert world.lambda_routing("api") == ("1", {})
    api = case(read_report(junit), "us-east-1", "api")
    kind, attributes = outcome(api) or ("pass", {})
    assert kind == "failure" and attributes["type"] == "rolled_back"
    # The message is the reason the rollback began, as the region's lines say it.
    assert f"rolling back: {attributes['message']}" in (api.findtext("system-out") or "")
    assert "restored alias to 1: 100%" in (api.findtext("system-out") or "")


def test_rollback_reports_what_it_restored_as_passing(aws_endpoint: str, tmp_path: Path) -> None:
    world = released_function(aws_endpoint)
    plan = lambda_plan(tmp_path, SLOW_CANARY)
    process = subprocess.Popen(
        rollout_command("apply", plan, aws_endpoint, "--yes"),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    wait_until(baking_at_10_percent(tmp_path))
    os.killpg(process.pid, signal.SIGKILL)  # the record is all that is left
    process.wait(30)
    assert world.lambda_routing("api") == ("1", {"2": Decimal("10.00")})
    junit = tmp_path / "rollback-junit.xml"

    result = run_cli(
        ["rollback", "-f", str(plan), "--endpoint-url", aws_endpoint, "--junit", str(junit)]
    )

    assert result.exit_code == 0, result.stdout + result.stderr
    assert world.lambda_routing("api") == ("1", {})
    api = case(read_report(junit), "us-east-1", "api")
    assert outcome(api) is None
    assert "restored alias to 1: 100%" in (api.findtext("system-out") or "")


def test_a_refused_apply_still_writes_the_report_with_the_refusal(
    aws_endpoint: str, tmp_path: Path
) -> None:
    released_function(aws_endpoint)
    plan = lambda_plan(tmp_path, "AllAtOnce", extra="colour: blue\n")
    junit = tmp_path / "rollout-junit.xml"

    result = apply(plan, aws_endpoint, "--junit", str(junit))

    assert result.exit_code == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    root = read_report(junit)
    kind, attributes = outcome(case(root, "rollout", "rollout")) or ("pass", {})
    assert kind == "error" and attributes["type"] == "refused"
    assert "colour" in attributes["message"] and "rollout.yaml" in attributes["message"]
    assert {p.get("name"): p.get("value") for p in root.iter("property")} == {"exit_code": "1"}


def test_apply_without_a_terminal_or_yes_is_reported_as_refused(
    aws_endpoint: str, tmp_path: Path
) -> None:
    plan = lambda_plan(tmp_path, "AllAtOnce")
    junit = tmp_path / "rollout-junit.xml"

    result = run_cli(
        ["apply", "-f", str(plan), "--endpoint-url", aws_endpoint, "--junit", str(junit)]
    )

    assert result.exit_code == 1
    _kind, attributes = outcome(case(read_report(junit), "rollout", "rollout")) or ("pass", {})
    assert "pass --yes" in attributes["message"]


def test_a_junit_path_that_cannot_be_written_is_a_usage_error_before_anything_moves(
    aws_endpoint: str, tmp_path: Path
) -> None:
    world = released_function(aws_endpoint)
    plan = lambda_plan(tmp_path, "AllAtOnce")
    events_file = tmp_path / "events.jsonl"

    result = apply(
        plan,
        aws_endpoint,
        "--junit",
        str(tmp_path / "missing" / "rollout-junit.xml"),
        "--events-file",
        str(events_file),
    )

    assert result.exit_code == 2, result.stdout + result.stderr
    assert "--junit" in result.stderr and "missing" in result.stderr
    assert "Traceback" not in result.stderr
    assert world.lambda_routing("api") == ("1", {})
    assert world.versions("api") == ["1"]
    assert not events_file.exists()


def test_no_sensitive_output_or_url_password_reaches_the_report(
    aws_endpoint: str, tmp_path: Path
) -> None:
    # The hook prints the sensitive terraform output it was given, and a URL with a password.
    hook = (
        "    hooks:\n      after_traffic: {command: "
        "'echo token={tf.token} https://deploy:url-pa55word@example.com/x'}\n"
    )
    plan, _worlds = terraform_release(aws_endpoint, tmp_path, ["us-east-1"], extra=hook)
    junit = tmp_path / "rollout-junit.xml"

    result = apply(plan, aws_endpoint, "--junit", str(junit))

    assert result.exit_code == 0, result.stdout + result.stderr
    text = junit.read_text(encoding="utf-8")
    assert "s3cr3t-us-east-1" not in text and "url-pa55word" not in text
    root = read_report(junit)
    assert "token=[redacted]" in (case(root, "us-east-1", "api").findtext("system-out") or "")
    terraform = case(root, "us-east-1", "terraform")
    assert outcome(terraform) is None
    assert "token = (sensitive)" in (terraform.findtext("system-out") or "")


def test_resume_with_nothing_to_resume_is_reported_as_refused(
    aws_endpoint: str, tmp_path: Path
) -> None:
    plan = lambda_plan(tmp_path, "AllAtOnce")
    junit = tmp_path / "rollout-junit.xml"

    result = run_cli(
        ["resume", "-f", str(plan), "--endpoint-url", aws_endpoint, "--junit", str(junit)]
    )

    assert result.exit_code == 1, result.stdout + result.stderr
    kind, attributes = outcome(case(read_report(junit), "rollout", "rollout")) or ("pass", {})
    assert (kind, attributes["message"]) == ("error", "no rollout of 'e2e' is recorded")
