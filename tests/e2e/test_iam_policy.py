"""`rollout iam-policy` against the calls rollout really makes.

Every command runs as its own process under tests/iam_recorder.py, which
writes down each AWS call (service, operation, parameters) as botocore starts
it. The resource and IAM action of each call are worked out here from AWS's
documentation, independently of rollout's declarations; each must be allowed
by the policy, and each action the policy grants must have been needed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from rollout.sandbox import package
from rollout.state.session import LOCK_REFRESH_ON_WRITE_SECONDS
from tests.e2e.test_shared_state import shared
from tests.e2e.world import World
from tests.processes import wait_until
from tests.support import PLANS, run_cli

RECORDER = Path(__file__).resolve().parent.parent / "iam_recorder.py"
ACCOUNT = "123456789012"  # moto's
PREFIX = {"stepfunctions": "states"}

PLAN = """\
version: 1
name: iam
regions: [us-east-1]
targets:
  - name: api
    lambda: {function: api, alias: live, code: {zip: api.zip}}
    strategy: STRATEGY
    alarms: [api-errors]
  - name: flow
    stepfunctions: {state_machine: flow, alias: prod, definition: flow.json}
    strategy: AllAtOnce
    alarms: [flow-failures]
alarms: {poll_interval: 0.1s, bake: 0.1s}
state: {backend: s3, bucket: rollout-state, lock_table: rollout-locks, prefix: teams/a}
"""


@dataclass(frozen=True)
class Call:
    """One AWS call as IAM sees it: the actions checked, the resource, the condition keys."""

    operation: str
    actions: tuple[str, ...]
    resource: str
    context: tuple[tuple[str, str], ...] = ()


def iam_view(line: dict[str, Any]) -> Call:
    """The IAM view of a recorded call, per AWS's documentation of each service."""
    service, operation, params = line["service"], line["operation"], line["params"]
    region = line["region"]
    actions = (f"{PREFIX.get(service, service)}:{operation}",)
    context: tuple[tuple[str, str], ...] = ()
    if service == "lambda":
        name = params["FunctionName"]
        arn = (
            name
            if name.startswith("arn:")
            else f"arn:aws:lambda:{region}:{ACCOUNT}:function:{name}"
        )
        resource = f"{arn}:{params['Qualifier']}" if params.get("Qualifier") else arn
        if operation == "Invoke":
            actions = ("lambda:InvokeFunction",)
    elif service == "stepfunctions":
        resource = (
            params.get("stateMachineArn")
            or params.get("stateMachineAliasArn")
            or params.get("executionArn")
            # CreateStateMachineAlias names only its versions: it is authorized on their machine.
            or params["routingConfiguration"][0]["stateMachineVersionArn"].rsplit(":", 1)[0]
        )
        if operation == "UpdateStateMachine" and params.get("publish"):
            actions += ("states:PublishStateMachineVersion",)
    elif service == "s3" and operation == "ListObjectsV2":
        resource = f"arn:aws:s3:::{params['Bucket']}"
        actions, context = ("s3:ListBucket",), (("s3:prefix", params.get("Prefix", "")),)
    elif service == "s3":
        resource = f"arn:aws:s3:::{params['Bucket']}/{params['Key']}"
        if params.get("VersionId"):
            actions = ("s3:GetObjectVersion",)
    elif service == "dynamodb":
        resource = f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{params['TableName']}"
        key = (params.get("Key") or params.get("Item"))["LockID"]["S"]
        context = (("dynamodb:LeadingKeys", key),)
    else:  # CloudWatch's DescribeAlarms (composite alarms need "*") and STS name no resource
        resource = "*"
    return Call(operation, actions, resource, context)


def allows(policy: dict[str, Any], action: str, call: Call) -> bool:
    """Whether an Allow statement of `policy` grants `action` on the call's resource."""
    for statement in policy["Statement"]:
        granted = _listed(statement["Action"])
        resources = _listed(statement["Resource"])
        if not any(fnmatchcase(action.lower(), a.lower()) for a in granted):
            continue
        if not any(fnmatchcase(call.resource, r) for r in resources):
            continue
        if _condition_holds(statement.get("Condition", {}), dict(call.context)):
            return True
    return False


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def _condition_holds(condition: dict[str, dict[str, list[str]]], context: dict[str, str]) -> bool:
    for operator, keys in condition.items():
        for key, values in keys.items():
            if key not in context:
                return operator.startswith("ForAllValues:")  # IAM: vacuously true for those
            if operator.endswith("StringLike"):
                matched = any(fnmatchcase(context[key], v) for v in values)
            else:
                matched = context[key] in values
            if not matched:
                return False
    return True


class Recorded:
    """Runs rollout commands under the recorder; the calls of all of them so far."""

    def __init__(self, folder: Path, endpoint: str) -> None:
        self.folder = folder
        self.endpoint = endpoint
        self.log = folder / "calls.jsonl"
        self.last_output = ""

    def command(self, *arguments: str) -> list[str]:
        plan = ["-f", str(self.folder / "rollout.yaml"), "--endpoint-url", self.endpoint]
        return [sys.executable, str(RECORDER), *arguments, *plan]

    def environment(self) -> dict[str, str]:
        return {**os.environ, "ROLLOUT_TEST_CALLS": str(self.log)}

    def run(self, *arguments: str) -> int:
        """Run a command to its end; its exit code (its output is in the failure message)."""
        done = subprocess.run(
            self.command(*arguments),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env=self.environment(),
        )
        self.last_output = done.stdout + done.stderr
        return done.returncode

    def start(self, *arguments: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            self.command(*arguments),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=self.environment(),
            start_new_session=True,
        )

    def calls(self) -> Iterator[Call]:
        for line in self.log.read_text(encoding="utf-8").splitlines():
            yield iam_view(json.loads(line))


def release(folder: Path, body: str, strategy: str = "AllAtOnce") -> None:
    """The plan, releasing code `body` and a definition passing through a state of that name."""
    (folder / "api.zip").write_bytes(package(body))
    flow = {"StartAt": body, "States": {body: {"Type": "Pass", "End": True}}}
    (folder / "flow.json").write_text(json.dumps(flow), encoding="utf-8")
    (folder / "rollout.yaml").write_text(PLAN.replace("STRATEGY", strategy), encoding="utf-8")


def test_every_call_of_every_command_is_allowed_and_every_grant_is_used(
    aws_endpoint: str, tmp_path: Path
) -> None:
    shared(aws_endpoint)
    world = World(aws_endpoint)
    world.function("api", alias=None)  # the first apply creates both aliases
    world.state_machine("flow", alias=None)
    world.alarm("api-errors")
    world.alarm("flow-failures")
    rollout = Recorded(tmp_path, aws_endpoint)

    release(tmp_path, "v2")
    assert rollout.run("plan") == 0, rollout.last_output
    assert rollout.run("apply", "--yes") == 0  # a first deploy
    release(tmp_path, "v3", "{type: canary, percent: 10, interval: 0.3s}")
    assert rollout.run("apply", "--yes") == 0, rollout.last_output
    assert rollout.run("status") == 0, rollout.last_output

    release(tmp_path, "v4", "{type: canary, percent: 10, interval: 30s}")  # an alarm stops it
    applying = rollout.start("apply", "--yes")
    wait_until(lambda: world.lambda_routing("api")[1] == {"4": Decimal("10.00")})
    world.set_alarm("api-errors", "ALARM")
    assert applying.wait(60) == 3
    world.set_alarm("api-errors", "OK")

    applying = rollout.start("apply", "--yes")  # killed mid-canary, then rolled back
    wait_until(lambda: world.lambda_routing("api")[1] == {"5": Decimal("10.00")})
    os.killpg(applying.pid, signal.SIGKILL)
    applying.wait(30)
    assert rollout.run("rollback") == 0, rollout.last_output

    release(tmp_path, "v5", "{steps: [{weight: 20, pause: manual}, {weight: 100}]}")
    applying = rollout.start("apply", "--yes")  # paused, then promoted
    wait_until(lambda: world.lambda_routing("api")[1] == {"6": Decimal("20.00")})
    # A write after a few quiet seconds shows the lock's holder is alive (UpdateItem).
    time.sleep(LOCK_REFRESH_ON_WRITE_SECONDS + 0.5)
    assert rollout.run("promote") == 0, rollout.last_output
    assert applying.wait(60) == 0

    release(tmp_path, "v6", "{type: linear, percent: 50, interval: 30s}")
    applying = rollout.start("apply", "--yes")  # killed mid-shift, then resumed
    wait_until(lambda: world.lambda_routing("api")[1] == {"7": Decimal("50.00")})
    os.killpg(applying.pid, signal.SIGKILL)
    applying.wait(30)
    release(tmp_path, "v6", "{type: linear, percent: 50, interval: 0.3s}")
    assert rollout.run("resume", "--force") == 0, rollout.last_output
    assert world.lambda_routing("api") == ("7", {})
    assert rollout.run("history") == 0, rollout.last_output

    made = run_cli(["iam-policy", "-f", str(tmp_path / "rollout.yaml"), "--account", ACCOUNT])
    assert made.exit_code == 0, made.stderr
    policy = json.loads(made.stdout)
    calls = list(rollout.calls())
    refused = sorted(
        {(a, c.resource) for c in calls for a in c.actions if not allows(policy, a, c)}
    )
    assert refused == []
    granted = {a for s in policy["Statement"] for a in s["Action"]}
    assert granted == {a for c in calls for a in c.actions}


def test_a_bad_plan_is_one_located_error() -> None:
    result = run_cli(["iam-policy", "-f", str(PLANS / "bad" / "unknown_top_key.yaml")])

    assert result.exit_code == 1
    assert "unknown_top_key.yaml:3:1: regoins: unknown key" in result.stderr
    assert result.stdout == "" and "Traceback" not in result.stderr
