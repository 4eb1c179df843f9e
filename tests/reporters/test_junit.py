"""The JUnit report of a run, built from event sequences and checked as CI reads it.

Every report is validated against the schema the Jenkins xUnit plugin ships
(junit-10.xsd, copied beside this file with its source and MIT notice): it is
the strictest common reading of JUnit XML that Jenkins uses, and it is small
and stable. Note it declares no `skipped` on `<testsuites>`, so rollout's
report counts skipped cases per `<testsuite>` only.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import xmlschema

from rollout.engine import events as ev
from rollout.redact import hide
from rollout.reporters.junit import Goal, JUnitReporter

START = datetime(2026, 11, 27, 10, 0, tzinfo=timezone.utc)
API_HOOK_OUTPUT = "smoke test\x1b[31m red\x1b[0m\x00\x07 bell\x1f done"


@cache
def jenkins_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(Path(__file__).with_name("junit-10.xsd"))


def report(events: list[ev.Event], tmp_path: Path, goal: Goal = Goal.RELEASE) -> ET.Element:
    """The file a reporter writes after `events`, validated as Jenkins would read it."""
    path = tmp_path / "rollout-junit.xml"
    reporter = JUnitReporter(path, goal)
    for event in events:
        reporter(event)
    reporter.close()
    jenkins_schema().validate(str(path))
    return ET.parse(path).getroot()


def at(seconds: float, event: ev.Event) -> ev.Event:

    return replace(event, at=START + timedelta(seconds=seconds), rollout_id="r-1")


def case(root: ET.Element, region: str, name: str) -> ET.Element:
    found = root.find(f"testsuite/testcase[@classname='{region}'][@name='{name}']")
    assert found is not None, ET.tostring(root, encoding="unicode")
    return found


def outcome(testcase: ET.Element) -> tuple[str, dict[str, Any]] | None:
    """('failure'|'error'|'skipped', attributes) or None for a pass."""
    for kind in ("failure", "error", "skipped"):
        element = testcase.find(kind)
        if element is not None:
            return kind, dict(element.attrib)
    return None


def released(region: str, target: str, start: float) -> list[ev.Event]:
    return [
        at(
            start,
            ev.VersionPublished(region=region, target=target, version=2, arn="a:2", summary="new"),
        ),
        at(
            start + 1,
            ev.WeightShifted(
                region=region,
                target=target,
                weight=100.0,
                routing=(ev.Share(2, 100.0),),
                step=1,
                steps=1,
            ),
        ),
        at(start + 4, ev.BakeStarted(region=region, target=target, seconds=3, final=True)),
    ]


def test_a_released_rollout_is_one_passing_case_per_region_and_target(tmp_path: Path) -> None:
    events = [
        at(0, ev.RolloutStarted(plan="orders", waves=(("us-east-1", "eu-west-1"),))),
        at(0, ev.RegionStarted(region="us-east-1")),
        *released("us-east-1", "api", 1),
        *released("us-east-1", "flow", 2),
        at(9, ev.RegionFinished(region="us-east-1", outcome="succeeded", message="released")),
        at(1, ev.RegionStarted(region="eu-west-1")),
        at(2, ev.NothingToPublish(region="eu-west-1", target="api", summary="same code")),
        at(2, ev.NothingToPublish(region="eu-west-1", target="flow", summary="same")),
        at(3, ev.RegionFinished(region="eu-west-1", outcome="nothing_to_do", message="nothing")),
        at(10, ev.RolloutFinished(outcome="succeeded", exit_code=0, message="2 succeeded")),
    ]

    root = report(events, tmp_path)

    assert root.tag == "testsuites" and root.get("name") == "rollout orders"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("4", "0", "0")
    assert root.get("time") == "10.000"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["us-east-1", "eu-west-1"]
    assert suites[0].get("timestamp") == "2026-11-27T10:00:00"
    assert suites[0].get("time") == "9.000" and suites[0].get("skipped") == "0"
    api = case(root, "us-east-1", "api")
    assert outcome(api) is None
    assert api.get("time") == "4.000"  # its own first to last event
    out = api.findtext("system-out") or ""
    assert "2026-11-27T10:00:01Z us-east-1 api: published version 2 (new)" in out
    assert "region started" in out and "flow" not in out
    assert outcome(case(root, "eu-west-1", "flow")) is None
    assert {p.get("name"): p.get("value") for p in suites[0].iter("property")} == {
        "rollout_id": "r-1",
        "outcome": "succeeded",
        "exit_code": "0",
    }


def test_a_rolled_back_region_fails_its_targets_with_the_reason(tmp_path: Path) -> None:
    why = "alarm api-errors (ALARM)"
    events = [
        at(0, ev.RolloutStarted(plan="orders", waves=(("us-east-1",),))),
        *released("us-east-1", "api", 1),
        at(
            2,
            ev.VersionPublished(
                region="us-east-1", target="flow", version=3, arn="f:3", summary="d"
            ),
        ),
        at(
            5, ev.AlarmChanged(region="us-east-1", alarm="api-errors", previous="OK", state="ALARM")
        ),
        at(5, ev.RollbackStarted(region="us-east-1", reason=why)),
        at(6, ev.AliasRestored(region="us-east-1", target="api", routing=(ev.Share(1, 100.0),))),
        at(6, ev.AliasRestored(region="us-east-1", target="flow", routing=(ev.Share(2, 100.0),))),
        at(
            7,
            ev.RegionFinished(
                region="us-east-1", outcome="rolled_back", message=f"{why}; rolled back"
            ),
        ),
        at(7, ev.RolloutFinished(outcome="rolled_back", exit_code=3, message="1 rolled back")),
    ]

    root = report(events, tmp_path)

    for target in ("api", "flow"):
        assert outcome(case(root, "us-east-1", target)) == (
            "failure",
            {"message": why, "type": "rolled_back"},
        )
    assert root.get("failures") == "2" and root.find("testsuite").get("failures") == "2"  # type: ignore[union-attr]
    out = case(root, "us-east-1", "flow").findtext("system-out") or ""
    assert "rolling back: alarm api-errors (ALARM)" in out  # the region's lines tell why
    assert "restored alias to 2: 100%" in out


def test_the_rollback_command_passes_what_it_restored(tmp_path: Path) -> None:
    events = [
        at(0, ev.RolloutStarted(plan="orders", waves=(("us-east-1", "eu-west-1"),))),
        at(1, ev.RollbackStarted(region="us-east-1", reason="rollout rollback")),
        at(2, ev.AliasRestored(region="us-east-1", target="api", routing=(ev.Share(1, 100.0),))),
        at(3, ev.RegionFinished(region="us-east-1", outcome="rolled_back", message="rolled back")),
        at(2, ev.RollbackFailed(region="eu-west-1", target="api", error="AccessDenied")),
        at(3, ev.RegionFinished(region="eu-west-1", outcome="needs_human", message="look")),
        at(3, ev.RolloutFinished(outcome="needs_human", exit_code=4, message="1 rolled back")),
    ]

    root = report(events, tmp_path, Goal.RESTORE)

    assert outcome(case(root, "us-east-1", "api")) is None
    assert outcome(case(root, "eu-west-1", "api")) == (
        "error",
        {"message": "rollback failed: AccessDenied", "type": "rollback_failed"},
    )


def test_a_later_wave_after_a_failure_is_skipped_for_every_target(tmp_path: Path) -> None:
    message = "not started: an earlier wave failed"
    events = [
        at(0, ev.RolloutStarted(plan="orders", waves=(("us-east-1",), ("eu-west-1",)))),
        at(
            1,
            ev.HookFinished(
                region="us-east-1",
                target="api",
                phase="before_traffic",
                hook="smoke",
                passed=False,
                detail="HTTP 500",
            ),
        ),
        at(1, ev.NothingToPublish(region="us-east-1", target="flow", summary="same")),
        at(
            2,
            ev.RegionFinished(
                region="us-east-1",
                outcome="failed_before_traffic",
                message="api: before_traffic hook smoke failed",
            ),
        ),
        at(2, ev.RegionFinished(region="eu-west-1", outcome="skipped", message=message)),
        at(2, ev.RolloutFinished(outcome="failed_before_traffic", exit_code=1, message="1 failed")),
    ]

    root = report(events, tmp_path)

    assert outcome(case(root, "us-east-1", "api")) == (
        "failure",
        {"message": "api: before_traffic hook smoke failed", "type": "failed_before_traffic"},
    )
    for target in ("api", "flow"):
        assert outcome(case(root, "eu-west-1", target)) == (
            "skipped",
            {"message": message, "type": "skipped"},
        )
    assert root.findall("testsuite")[1].get("skipped") == "2"


def test_needs_human_and_drift_are_errors(tmp_path: Path) -> None:
    events = [
        at(0, ev.RolloutStarted(plan="orders", waves=(("us-east-1",),))),
        at(
            1,
            ev.DriftDetected(
                region="us-east-1", target="api", expected="1: 90%, 2: 10%", found="3: 100%"
            ),
        ),
        at(1, ev.NothingToPublish(region="us-east-1", target="flow", summary="same")),
        at(
            2,
            ev.RegionFinished(
                region="us-east-1", outcome="needs_human", message="api drifted; nothing changed"
            ),
        ),
        at(2, ev.RolloutFinished(outcome="needs_human", exit_code=4, message="1 needs a human")),
    ]

    root = report(events, tmp_path)

    assert outcome(case(root, "us-east-1", "api")) == (
        "error",
        {"message": "drift: expected 1: 90%, 2: 10%, found 3: 100%", "type": "drift"},
    )
    assert outcome(case(root, "us-east-1", "flow")) == (
        "error",
        {"message": "api drifted; nothing changed", "type": "needs_human"},
    )
    assert root.get("errors") == "2"


def test_terraform_and_nginx_stages_are_their_own_cases_with_their_lines(tmp_path: Path) -> None:
    failed = "terraform: apply failed: Error: Invalid value"
    events = [
        at(0, ev.RolloutStarted(plan="orders", waves=(("us-east-1", "eu-west-1"),))),
        at(
            1,
            ev.TerraformPlanned(
                region="us-east-1",
                add=1,
                change=0,
                destroy=0,
                resources=(("create", "null_resource.a"),),
            ),
        ),
        at(3, ev.TerraformApplied(region="us-east-1", add=1, change=0, destroy=0)),
        at(
            4,
            ev.NginxRendered(
                region="us-east-1", path="build/us.conf", domains=2, changed=True, checked="passed"
            ),
        ),
        *released("us-east-1", "api", 5),
        at(10, ev.RegionFinished(region="us-east-1", outcome="succeeded", message="released")),
        at(
            1,
            ev.TerraformDiagnostic(
                region="eu-west-1",
                severity="error",
                summary="Invalid value",
                detail="",
                file="main.tf",
                line=3,
            ),
        ),
        at(
            2,
            ev.RegionFinished(region="eu-west-1", outcome="failed_before_traffic", message=failed),
        ),
        at(
            10, ev.RolloutFinished(outcome="failed_before_traffic", exit_code=1, message="1 failed")
        ),
    ]

    root = report(events, tmp_path)

    terraform = case(root, "us-east-1", "terraform")
    assert outcome(terraform) is None and terraform.get("time") == "2.000"
    lines = (terraform.findtext("system-out") or "").splitlines()
    assert [line.split(": ", 1)[1] for line in lines] == [
        "terraform plan: 1 to add, 0 to change, 0 to destroy (create null_resource.a)",
        "terraform applied: 1 added, 0 changed, 0 destroyed",
    ]
    assert "terraform" not in (case(root, "us-east-1", "api").findtext("system-out") or "")
    assert outcome(case(root, "us-east-1", "nginx")) is None
    assert outcome(case(root, "eu-west-1", "terraform")) == (
        "failure",
        {"message": failed, "type": "failed_before_traffic"},
    )
    assert "main.tf:3" in (case(root, "eu-west-1", "terraform").findtext("system-out") or "")
    assert outcome(case(root, "eu-west-1", "api")) == (
        "skipped",
        {"message": f"not started: {failed}", "type": "not_started"},
    )


def test_a_refused_run_is_one_rollout_case_with_the_refusal(tmp_path: Path) -> None:
    path = tmp_path / "rollout-junit.xml"
    reporter = JUnitReporter(path)
    reporter.ended_without_run(
        4, ["error: rollout r-0 of 'orders' never finished", "`rollout rollback` restores it"]
    )
    reporter.close()

    jenkins_schema().validate(str(path))
    root = ET.parse(path).getroot()
    rollout = case(root, "rollout", "rollout")
    assert outcome(rollout) == (
        "error",
        {"message": "rollout r-0 of 'orders' never finished", "type": "refused"},
    )
    assert "`rollout rollback` restores it" in (rollout.findtext("system-out") or "")
    assert (root.get("tests"), root.get("errors")) == ("1", "1")


def test_a_run_cut_short_reports_its_unfinished_regions_as_errors(tmp_path: Path) -> None:
    path = tmp_path / "rollout-junit.xml"
    reporter = JUnitReporter(path)
    reporter(at(0, ev.RolloutStarted(plan="orders", waves=(("us-east-1",),))))
    for event in released("us-east-1", "api", 1):
        reporter(event)
    reporter.ended_without_run(1, ["error: internal error: RuntimeError: boom"])
    reporter.close()

    jenkins_schema().validate(str(path))
    root = ET.parse(path).getroot()
    assert outcome(case(root, "us-east-1", "api")) == (
        "error",
        {"message": "internal error: RuntimeError: boom", "type": "unfinished"},
    )
    assert outcome(case(root, "rollout", "rollout")) == (
        "error",
        {"message": "internal error: RuntimeError: boom", "type": "cut_short"},
    )


def test_secrets_colours_and_control_characters_never_reach_the_file(tmp_path: Path) -> None:
    secret = "pa55-w0rd-from-terraform"
    hide(secret)
    events = [
        at(0, ev.RolloutStarted(plan="orders", waves=(("us-east-1",),))),
        at(
            1,
            ev.TerraformOutputs(
                region="us-east-1", outputs=(("db_url", f"postgres://app:{secret}@db"),)
            ),
        ),
        at(
            2,
            ev.HookFinished(
                region="us-east-1",
                target="api",
                phase="after_traffic",
                hook="smoke",
                passed=False,
                detail=API_HOOK_OUTPUT,
            ),
        ),
        at(
            3,
            ev.RollbackStarted(region="us-east-1", reason=f"hook smoke failed: {secret} & <oops>"),
        ),
        at(3, ev.RegionFinished(region="us-east-1", outcome="rolled_back", message="rolled back")),
        at(3, ev.RolloutFinished(outcome="rolled_back", exit_code=3, message="1 rolled back")),
    ]

    root = report(events, tmp_path)

    raw = (tmp_path / "rollout-junit.xml").read_bytes()
    assert secret.encode() not in raw
    assert b"\x1b" not in raw and b"\x00" not in raw and b"\x07" not in raw
    assert "[redacted]" in (case(root, "us-east-1", "terraform").findtext("system-out") or "")
    api = case(root, "us-east-1", "api")
    assert "smoke test red bell done" in (api.findtext("system-out") or "")
    assert outcome(api) == (
        "failure",
        {"message": "hook smoke failed: [redacted] & <oops>", "type": "rolled_back"},
    )


def test_a_report_that_cannot_be_written_is_a_warning(tmp_path: Path, capsys: Any) -> None:
    in_the_way = tmp_path / "reports"
    in_the_way.write_text("a file where the folder should be", encoding="utf-8")
    reporter = JUnitReporter(in_the_way / "rollout-junit.xml")
    reporter.ended_without_run(0, ["nothing to restore"])

    reporter.close()  # raises nothing

    assert "warning: --junit" in capsys.readouterr().err


def test_a_resume_that_finished_a_cut_short_rollback_passes_with_exit_0(tmp_path: Path) -> None:
    events = [
        at(0, ev.RolloutStarted(plan="orders", waves=(("us-east-1",),))),
        at(1, ev.RollbackStarted(region="us-east-1", reason="rollout rollback")),
        at(2, ev.AliasRestored(region="us-east-1", target="api", routing=(ev.Share(1, 100.0),))),
        at(3, ev.RegionFinished(region="us-east-1", outcome="rolled_back", message="rolled back")),
        at(3, ev.RolloutFinished(outcome="rolled_back", exit_code=0, message="1 rolled back")),
    ]

    root = report(events, tmp_path, Goal.RELEASE)

    assert outcome(case(root, "us-east-1", "api")) is None
