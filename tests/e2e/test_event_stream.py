"""The JSON event stream as a script reads it: stable fields, documented, in a file too."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.e2e.world import AliasWatcher, World, code_zip
from tests.support import CliResult, run_cli
from tests.test_event_schema import COMMON, documented

FAST = "alarms: {poll_interval: 0.1s, bake: 0.2s}\n"


def lambda_and_state_machine(tmp_path: Path) -> Path:
    (tmp_path / "v2.zip").write_bytes(code_zip("v2"))
    definition = {"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}
    (tmp_path / "flow.asl.json").write_text(json.dumps(definition), encoding="utf-8")
    plan = tmp_path / "rollout.yaml"
    plan.write_text(
        "version: 1\nname: e2e\nregions: [us-east-1]\ntargets:\n"
        "  - name: api\n    lambda: {function: api, alias: live, code: {zip: v2.zip}}\n"
        "    strategy: {type: canary, percent: 10, interval: 0.3s}\n    alarms: [api-errors]\n"
        "  - name: flow\n"
        "    stepfunctions: {state_machine: flow, alias: prod, definition: flow.asl.json}\n"
        "    strategy: {type: linear, percent: 25, interval: 0.4s}\n    alarms: [flow-failures]\n"
        + FAST,
        encoding="utf-8",
    )
    return plan


def apply_with_events_file(plan: Path, endpoint: str, events_file: Path) -> CliResult:
    arguments = ["apply", "--yes", "-f", str(plan), "--endpoint-url", endpoint]
    return run_cli([*arguments, "--events-file", str(events_file)])


def read_events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def assert_documented(event: dict[str, Any]) -> None:
    table = documented()
    assert event["schema_version"] == 1
    assert event["event"] in table, event
    assert set(event) == {"schema_version", "event", *COMMON, *table[event["event"]]}, event


def test_events_file_holds_the_documented_stream_while_stdout_shows_lines(
    aws_endpoint: str, tmp_path: Path
) -> None:
    world = World(aws_endpoint)
    world.function("api")
    machine = world.state_machine("flow")
    world.alarm("api-errors")
    world.alarm("flow-failures")
    plan = lambda_and_state_machine(tmp_path)
    events_file = tmp_path / "events.jsonl"

    def fire(routing: dict[str, int]) -> None:
        if routing.get("2") == 50:
            world.set_alarm("flow-failures", "ALARM", "Threshold Crossed: 3 failures")

    with AliasWatcher(lambda: world.sfn_routing(machine), on_change=fire):
        result = apply_with_events_file(plan, aws_endpoint, events_file)

    assert result.exit_code == 3, result.stdout + result.stderr
    events = read_events(events_file)
    for event in events:
        assert_documented(event)
    assert len({event["rollout_id"] for event in events}) == 1
    assert events[0]["rollout_id"]
    assert events[-1]["event"] == "rollout_finished" and events[-1]["exit_code"] == 3

    published = {e["target"]: e for e in events if e["event"] == "version_published"}
    assert published["api"]["version"] == 2
    assert published["flow"]["version"] == 2  # a number, like Lambda's
    assert published["flow"]["arn"] == f"{machine}:2"
    shifts = [e for e in events if e["event"] == "weight_shifted" and e["target"] == "flow"]
    assert shifts[0]["routing"] == [{"version": 1, "weight": 75.0}, {"version": 2, "weight": 25.0}]
    assert [(e["step"], e["steps"]) for e in shifts] == [(1, 4), (2, 4)]
    restored = {e["target"]: e["routing"] for e in events if e["event"] == "alias_restored"}
    assert restored == {
        "api": [{"version": 1, "weight": 100.0}],
        "flow": [{"version": 1, "weight": 100.0}],
    }
    # The terminal got the human view, the file the stream: no JSON on stdout, no ANSI anywhere.
    assert not any(line.startswith("{") for line in result.stdout.splitlines())
    assert "\x1b" not in result.stdout + result.stderr
    assert "step 2/4: shifted to 50%" in result.stdout


def test_events_file_that_cannot_be_written_is_refused_before_anything_moves(
    aws_endpoint: str, tmp_path: Path
) -> None:
    world = World(aws_endpoint)
    world.function("api")
    world.state_machine("flow")
    world.alarm("api-errors")
    world.alarm("flow-failures")
    plan = lambda_and_state_machine(tmp_path)

    result = apply_with_events_file(plan, aws_endpoint, tmp_path / "missing" / "events.jsonl")

    assert result.exit_code == 2, result.stdout + result.stderr
    assert "--events-file" in result.stderr and "Traceback" not in result.stderr
    assert world.lambda_routing("api") == ("1", {})
    assert world.versions("api") == ["1"]
