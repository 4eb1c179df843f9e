"""`rollout demo`: real rollouts against a local AWS emulator, so a new user sees the tool work.

Starts moto's server on a free loopback port, creates a Lambda function, a
state machine, their aliases and alarms, then runs two releases through the
same engine `apply` uses: a canary that completes, and a linear release that
an alarm stops half-way and rolls back.
"""

from __future__ import annotations

import io
import json
import logging
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from rollout.clock import SystemClock
from rollout.engine import events as ev
from rollout.engine.outcome import Outcome
from rollout.plan.load import load_plan
from rollout.release import Selection, apply_plan

REGION = "us-east-1"
FUNCTION, STATE_MACHINE = "demo-api", "demo-flow"
API_ALARM, FLOW_ALARM = "demo-api-errors", "demo-flow-failures"

PLAN = """\
version: 1
name: demo
regions: [us-east-1]
targets:
  - name: api
    lambda: {{function: demo-api, alias: live, code: {{zip: {zip}}}}}
    strategy: {strategy}
    alarms: [demo-api-errors]
  - name: flow
    stepfunctions:
      state_machine: demo-flow
      alias: prod
      definition: flow.asl.json
    strategy: {strategy}
    alarms: [demo-flow-failures]
alarms: {{poll_interval: 0.25s, bake: 1s}}
"""

DEFINITION = {
    "Comment": "Calls the API at the version released with it.",
    "StartAt": "Call",
    "States": {"Call": {"Type": "Task", "Resource": "{targets.api.version_arn}", "End": True}},
}


class SandboxMissingError(Exception):
    """moto is not installed."""


@dataclass(frozen=True)
class DemoResult:
    """How each demo release ended, and whether that is what it was meant to show."""

    lines: tuple[str, ...]
    as_intended: bool


def _zip(body: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        # A fixed timestamp makes the same code give the same package, as a build should.
        entry = zipfile.ZipInfo("index.py", date_time=(2020, 1, 1, 0, 0, 0))
        archive.writestr(entry, f"def handler(event, context):\n    return {body!r}\n")
    return buffer.getvalue()


@contextmanager
def sandbox() -> Iterator[str]:
    """moto's server on a free loopback port, with throwaway credentials; yields its URL."""
    try:
        from moto.server import ThreadedMotoServer  # noqa: PLC0415 (an optional extra)
    except ImportError as exc:
        raise SandboxMissingError(
            "rollout demo needs the sandbox extra: pip install 'rollout[sandbox]'"
        ) from exc
    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    # The emulator accepts any credentials; these keep real ones out of its requests.
    os.environ.update(AWS_ACCESS_KEY_ID="demo", AWS_SECRET_ACCESS_KEY="demo")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # it logs every request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _clients(endpoint: str) -> dict[str, Any]:
    session = boto3.Session(region_name=REGION)
    return {
        name: session.client(name, endpoint_url=endpoint)
        for name in ("iam", "lambda", "stepfunctions", "cloudwatch")
    }


def _create_world(clients: dict[str, Any]) -> None:
    """A function and a state machine at version 1 behind aliases, and their alarms, all OK."""
    role = clients["iam"].create_role(RoleName="demo", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    aws_lambda = clients["lambda"]
    aws_lambda.create_function(
        FunctionName=FUNCTION,
        Runtime="python3.12",
        Role=role,
        Handler="index.handler",
        Code={"ZipFile": _zip("v1")},
    )
    aws_lambda.get_waiter("function_active_v2").wait(FunctionName=FUNCTION)
    version = aws_lambda.publish_version(FunctionName=FUNCTION)["Version"]
    aws_lambda.create_alias(FunctionName=FUNCTION, Name="live", FunctionVersion=version)
    first = {"StartAt": "Call", "States": {"Call": {"Type": "Pass", "End": True}}}
    created = clients["stepfunctions"].create_state_machine(
        name=STATE_MACHINE, definition=json.dumps(first), roleArn=role, publish=True
    )
    clients["stepfunctions"].create_state_machine_alias(
        name="prod",
        routingConfiguration=[
            {"stateMachineVersionArn": created["stateMachineVersionArn"], "weight": 100}
        ],
    )
    for alarm in (API_ALARM, FLOW_ALARM):
        clients["cloudwatch"].put_metric_alarm(
            AlarmName=alarm,
            MetricName="Errors",
            Namespace="Demo",
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanThreshold",
        )
        _set_alarm(clients, alarm, "OK")


def _set_alarm(clients: dict[str, Any], alarm: str, state: str) -> None:
    clients["cloudwatch"].set_alarm_state(AlarmName=alarm, StateValue=state, StateReason="demo")


def _write_release(folder: Path, code: str, strategy: str) -> Path:
    (folder / f"{code}.zip").write_bytes(_zip(code))
    (folder / "flow.asl.json").write_text(json.dumps({**DEFINITION, "Comment": code}), "utf-8")
    plan = folder / "rollout.yaml"
    plan.write_text(PLAN.format(zip=f"{code}.zip", strategy=strategy), encoding="utf-8")
    return plan


def _alias_version(clients: dict[str, Any]) -> str:
    alias = clients["lambda"].get_alias(FunctionName=FUNCTION, Name="live")
    weights = alias.get("RoutingConfig", {}).get("AdditionalVersionWeights") or {}
    return str(alias["FunctionVersion"]) + (f" + {weights}" if weights else "")


def run_demo(sink: ev.EventSink, say: Callable[[str], None]) -> DemoResult:
    """Run both demo releases; `sink` gets every event, `say` the narration."""
    clock = SystemClock()
    summary: list[str] = []
    with sandbox() as endpoint, tempfile.TemporaryDirectory() as folder_name:
        folder = Path(folder_name)
        clients = _clients(endpoint)
        _create_world(clients)
        selection = Selection(endpoint_url=endpoint)
        say(f"AWS emulator on {endpoint}: {FUNCTION}:live and {STATE_MACHINE}:prod at version 1")

        say("release 1: canary 25% for 1s, then 100%, then a 1s bake; alarms stay OK")
        plan = load_plan(_write_release(folder, "v2", "{type: canary, percent: 25, interval: 1s}"))
        first = apply_plan(plan, selection, clock, sink, description="demo release 1")
        first_ok = first.outcome is Outcome.SUCCEEDED and _alias_version(clients) == "2"
        summary.append(
            f"release 1 {first.outcome.value}: {FUNCTION}:live serves version "
            f"{_alias_version(clients)} ({'as intended' if first_ok else 'NOT as intended'})"
        )

        say(f"release 2: linear 20% every 1s; {API_ALARM} goes to ALARM once 40% has moved")

        def flip_alarm_mid_release(event: ev.Event) -> None:
            sink(event)
            if isinstance(event, ev.WeightShifted) and event.target == "api" and event.weight == 40:
                _set_alarm(clients, API_ALARM, "ALARM")

        plan = load_plan(_write_release(folder, "v3", "{type: linear, percent: 20, interval: 1s}"))
        second = apply_plan(plan, selection, clock, flip_alarm_mid_release, description="demo 2")
        second_ok = second.outcome is Outcome.ROLLED_BACK and _alias_version(clients) == "2"
        summary.append(
            f"release 2 {second.outcome.value}: {FUNCTION}:live back on version "
            f"{_alias_version(clients)} ({'as intended' if second_ok else 'NOT as intended'})"
        )
    return DemoResult(tuple(summary), first_ok and second_ok)
