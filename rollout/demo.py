"""`rollout demo`: real rollouts against a local AWS emulator, so a new user sees the tool work.

Starts moto's server on a free loopback port, creates a Lambda function, a
state machine, their aliases and alarms, then runs two releases through the
same engine `apply` uses: a canary that completes, and a linear release that
an alarm stops part-way and rolls back.
"""

from __future__ import annotations

import json
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


@dataclass(frozen=True)
class DemoResult:
    """How each demo release ended, and whether that is what it was meant to show."""

    lines: tuple[str, ...]
    as_intended: bool


def _write_release(folder: Path, code: str, strategy: str) -> Path:
    (folder / f"{code}.zip").write_bytes(package(code))
    (folder / "flow.asl.json").write_text(json.dumps({**DEFINITION, "Comment": code}), "utf-8")
    plan = folder / "rollout.yaml"
    plan.write_text(PLAN.format(zip=f"{code}.zip", strategy=strategy), encoding="utf-8")
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

        say("release 1: canary 25% for 1s, then 100%, then a 1s bake; alarms stay OK")
        plan = load_plan(_write_release(folder, "v2", "{type: canary, percent: 25, interval: 1s}"))
        first = _release(plan, endpoint, sink)
        first_line, first_ok = _verdict(world, "release 1", first, Outcome.SUCCEEDED)

        say(f"release 2: linear 20% every 1s; {API_ALARM} goes to ALARM once 40% has moved")

        def flip_alarm_mid_release(event: ev.Event) -> None:
            sink(event)
            if isinstance(event, ev.WeightShifted) and event.target == "api" and event.weight == 40:
                world.set_alarm(API_ALARM, "ALARM")

        plan = load_plan(_write_release(folder, "v3", "{type: linear, percent: 20, interval: 1s}"))
        second = _release(plan, endpoint, flip_alarm_mid_release)
        second_line, second_ok = _verdict(world, "release 2", second, Outcome.ROLLED_BACK)
    return DemoResult((first_line, second_line), first_ok and second_ok)
